# A NixOS module of the project in four configurations, each evaluated to its system
# derivation (system.build.toplevel: every file, unit and user it writes) plus the facts
# tests/nix/test_eval.py checks.
{
  nixpkgs,
  module,
  system,
}:
let
  inherit (nixpkgs) lib;
  evaluate =
    settings:
    let
      nixos = lib.nixosSystem {
        inherit system;
        modules = [
          module
          settings
        ];
      };
      inherit (nixos) config;
    in
    {
      toplevel = config.system.build.toplevel.drvPath;
      openssh = {
        inherit (config.services.openssh) enable;
        inherit (config.services.openssh.settings)
          PasswordAuthentication
          KbdInteractiveAuthentication
          PermitRootLogin
          ;
      };
      fail2ban = config.services.fail2ban.enable;
      firewall = config.networking.firewall.allowedTCPPorts;
      sysctl = config.boot.kernel.sysctl;
      users = builtins.mapAttrs (_: u: {
        inherit (u)
          uid
          group
          home
          linger
          isNormalUser
          autoSubUidGidRange
          ;
      }) config.users.users;
      etc = builtins.attrNames config.environment.etc;
      tmpfiles = config.systemd.tmpfiles.rules;
      services = builtins.attrNames config.systemd.services;
      refreshScript = config.systemd.services.experts-panel-refresh.script or "";
      # The texts of the files whose change restarts experts-panel-refresh (the settings
      # file, the setup unit), by name.
      refreshTriggers = builtins.listToAttrs (
        map (file: {
          inherit (file) name;
          value = file.text or null;
        }) (config.systemd.services.experts-panel-refresh.restartTriggers or [ ])
      );
    };
in
{
  # The module imported but not enabled: it must change nothing.
  disabled = evaluate { };

  # The least an operator writes.
  minimal = evaluate {
    services.experts-panel = {
      enable = true;
      domain = "panel.example.org";
    };
  };

  # The least that turns the Telegram sync's timer on (the api_hash secret made by hand).
  sync = evaluate {
    services.experts-panel = {
      enable = true;
      domain = "panel.example.org";
      sync = {
        enable = true;
        telegramApiId = 1234567;
      };
    };
  };

  # Every option given a value of its type.
  full = evaluate {
    services.experts-panel = {
      enable = true;
      domain = "panel.example.org,www.panel.example.org";
      acmeEmail = "ops@example.org";
      acmeServer = "https://acme.test/dir";
      acmeCaBundle = ./ca-bundle.pem;
      user = "experts";
      group = "experts";
      uid = 20001;
      home = "/srv/experts-panel";
      environment = {
        LOG_LEVEL = "WARNING";
        NOTIFY_COMMAND = ''mail -s "Experts Panel: $1 failed" root'';
      };
      environmentFile = "/run/keys/experts-panel.env";
      apiKeyFile = "/run/keys/openrouter-api-key";
      backup = {
        schedule = "hourly";
        keepDaily = 3;
        keepWeekly = 2;
      };
      sync = {
        enable = true;
        telegramApiId = 7654321;
        telegramApiHashFile = "/run/keys/telegram-api-hash";
      };
      extraNginxHeaders."Content-Security-Policy" = "default-src 'self'";
      openFirewall = false;
      hardenHost = true;
    };
  };
}
