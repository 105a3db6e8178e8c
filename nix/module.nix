# services.experts-panel: a NixOS host that runs the panel the way docs/ tells a VPS operator
# to: one ordinary user with lingering runs the Quadlet units in quadlet/ under systemd --user
# (rootless Podman), loads the Nix-built images under :current, and, with hardenHost, hardens
# the host's SSH for a public address (keys only, fail2ban).
{ self }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.experts-panel;
  inherit (lib)
    concatStrings
    concatStringsSep
    filter
    hasSuffix
    literalExpression
    mapAttrsToList
    mkDefault
    mkEnableOption
    mkIf
    mkOption
    mkPackageOption
    optionalAttrs
    optionalString
    types
    ;

  derived = import ./spec.nix { };
  flakePackages = self.packages.${pkgs.stdenv.hostPlatform.system};

  uid = toString cfg.uid;
  # systemctl --user / systemd-run as the stack's user, from root.
  asUser = "--machine=${cfg.user}@ --user";

  # quadlet/ holds both kinds of unit: Quadlet's own types go where Quadlet's user generator
  # reads them for this user alone; the .service/.timer files are plain systemd user units.
  quadletFiles = builtins.attrNames (
    lib.filterAttrs (_: type: type == "regular") (builtins.readDir ../quadlet)
  );
  isQuadlet =
    file:
    builtins.any (suffix: hasSuffix suffix file) [
      ".pod"
      ".container"
      ".volume"
      ".network"
      ".image"
      ".build"
      ".kube"
    ];
  quadletUnits = filter isQuadlet quadletFiles;
  # quadlet/ goes to the store once, as a directory, and units are files inside it: a unit's
  # own name may hold "@" (experts-panel-notify@.service is a template), which the name of a
  # store path may not, so `../quadlet + "/${file}"` cannot be copied on its own.
  quadletDir = builtins.path {
    path = ../quadlet;
    name = "experts-panel-quadlet";
  };
  unitFile = file: "${quadletDir}/${file}";
  userUnits = filter (file: hasSuffix ".service" file || hasSuffix ".timer" file) quadletFiles;
  # Every timer is enabled but the Telegram sync's, which only runs once the operator asks for
  # it (sync.enable): it needs a Telegram account's session, made interactively, first.
  syncTimer = derived.spec.sync.timer;
  timers = filter (
    file: hasSuffix ".timer" file && (file != syncTimer || cfg.sync.enable)
  ) userUnits;

  # The host-side scripts the user units run (~/.local/lib/experts-panel/, as on any VPS);
  # patchShebangs points their bash and python3 at the store.
  scripts = pkgs.runCommand "experts-panel-scripts" { nativeBuildInputs = [ pkgs.python3 ]; } ''
    mkdir -p $out
    for f in ${../quadlet/bin}/* ${../backup}/*; do
      if [ -f "$f" ] && [ -x "$f" ]; then
        cp "$f" $out/
      fi
    done
    patchShebangs $out
  '';

  # What those scripts and Podman call. NixOS gives user units no PATH of their own; newuidmap
  # and newgidmap (rootless Podman) are setuid wrappers in /run/wrappers/bin.
  userPath = "/run/wrappers/bin:${
    lib.makeBinPath [
      config.virtualisation.podman.package
      cfg.certbotPackage
      config.systemd.package
      pkgs.bash
      pkgs.coreutils
      pkgs.curl
      pkgs.findutils
      pkgs.gawk
      pkgs.gnugrep
      pkgs.gnused
      pkgs.gzip
      pkgs.openssl
      pkgs.python3
      (lib.getBin pkgs.sqlite)
      pkgs.util-linux
      pkgs.zstd
    ]
  }";

  # ~/.config/experts-panel/env: the service's settings and the host-side scripts' settings.
  # Podman reads the file literally and systemd strips quotes, so only values with blanks (the
  # operator's commands, which only host-side scripts read) are quoted.
  settings = {
    PANEL_DOMAIN = cfg.domain;
    PRODUCTION_ORIGIN = "https://${builtins.head (lib.splitString "," cfg.domain)}";
    ACME_EMAIL = if cfg.acmeEmail == null then "" else cfg.acmeEmail;
    ACME_SERVER = if cfg.acmeServer == null then "" else cfg.acmeServer;
    BACKUP_KEEP_DAILY = toString cfg.backup.keepDaily;
    BACKUP_KEEP_WEEKLY = toString cfg.backup.keepWeekly;
  }
  // optionalAttrs (cfg.acmeCaBundle != null) { REQUESTS_CA_BUNDLE = "${cfg.acmeCaBundle}"; }
  // optionalAttrs (cfg.sync.telegramApiId != null) {
    TELEGRAM_API_ID = toString cfg.sync.telegramApiId;
  }
  // cfg.environment;
  quote =
    value:
    if builtins.match ".*[[:space:]\"'\\\\].*" value == null then
      value
    else
      "\"${lib.escape [ "\\" "\"" ] value}\"";
  envFile = pkgs.writeText "experts-panel-env" (
    concatStringsSep "\n" (mapAttrsToList (name: value: "${name}=${quote value}") settings) + "\n"
  );

  secret = derived.spec.secret.name;
  telegramSecret = derived.spec.sync.secret.name;
  volumes = derived.spec.volumes;

  # Runs as the user before the pod starts: the settings file, the API key secret, the images.
  setup = pkgs.writeShellScript "experts-panel-setup" ''
    set -euo pipefail
    export PATH=${userPath}
    umask 077

    conf=$HOME/.config/experts-panel
    mkdir -p "$conf"
    {
      cat ${envFile}
      ${optionalString (cfg.environmentFile != null) ''cat ${lib.escapeShellArg cfg.environmentFile}''}
    } >"$conf/env.new"
    mv -f "$conf/env.new" "$conf/env"

    ${
      if cfg.apiKeyFile != null then
        ''
          podman secret create --replace ${secret} ${lib.escapeShellArg cfg.apiKeyFile} >/dev/null
        ''
      else
        ''
          # No key configured: keep one the operator created by hand, else "no key" (a single
          # newline; Podman refuses an empty secret), which selects the embedded model.
          if ! podman secret exists ${secret}; then
            printf '\n' | podman secret create ${secret} - >/dev/null
          fi
        ''
    }

    ${optionalString (cfg.sync.telegramApiHashFile != null) ''
      # The Telegram application's api_hash, for the sync container (a mounted file there).
      podman secret create --replace ${telegramSecret} ${lib.escapeShellArg cfg.sync.telegramApiHashFile} >/dev/null
    ''}

    # Load the images only when this configuration's differ from the ones loaded last time.
    state=$HOME/.local/state/experts-panel
    mkdir -p "$state"
    if [[ $(cat "$state/images" 2>/dev/null) != ${cfg.images} ]] ||
      ! podman image exists ${derived.references.api} ||
      ! podman image exists ${derived.references.web}; then
      ${cfg.images}/bin/load
      echo ${cfg.images} >"$state/images"
    fi

    ${optionalString (cfg.extraNginxHeaders != { }) ''
      # Extra response headers, in the certs volume that nginx includes them from.
      podman volume create --ignore ${volumes.certs} >/dev/null
      certs=$(podman volume inspect --format '{{.Mountpoint}}' ${volumes.certs})
      install -m 0644 ${extraHeaders} "$certs/extra-headers.conf.new"
      mv -f "$certs/extra-headers.conf.new" "$certs/extra-headers.conf"
    ''}
  '';

  extraHeaders = pkgs.writeText "experts-panel-extra-headers.conf" (
    concatStrings (
      mapAttrsToList (name: value: "add_header ${name} ${builtins.toJSON value} always;\n") cfg.extraNginxHeaders
    )
  );
  nginxConf = builtins.readFile ../nginx/nginx.conf;

  setupUnit = pkgs.writeText "experts-panel-setup.service" ''
    # Written by the NixOS module (services.experts-panel): the settings file, the API key
    # secret and the images, before the stack starts.
    [Unit]
    Description=Experts Panel: settings, secret and images from the NixOS configuration
    Before=experts-panel.service

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=${setup}
  '';

  # Every unit whose name starts with experts-panel- (the Quadlet-generated api and web
  # services too) reads this drop-in: the PATH their scripts and Podman need on NixOS.
  pathDropIn = pkgs.writeText "experts-panel-path.conf" ''
    [Service]
    Environment=PATH=${userPath}
  '';
  # Wants=, not Requires=: restarting the setup (on every switch) must not restart the stack.
  podDropIn = pkgs.writeText "experts-panel-setup.conf" ''
    [Unit]
    Wants=experts-panel-setup.service
    After=experts-panel-setup.service
  '';
  scheduleDropIn = pkgs.writeText "experts-panel-backup-schedule.conf" ''
    [Timer]
    OnCalendar=
    OnCalendar=${cfg.backup.schedule}
  '';

  userDir = "${cfg.home}/.config/systemd/user";
  owned = path: "d ${path} 0700 ${cfg.user} ${cfg.group} -";
  link = path: target: "L+ ${path} - - - - ${target}";
in
{
  options.services.experts-panel = {
    enable = mkEnableOption "Experts Panel, a rootless Podman stack (nginx and the API) run by one user with lingering";

    package = mkOption {
      type = types.package;
      default = flakePackages.experts-panel;
      defaultText = literalExpression "experts-panel.packages.\${system}.experts-panel";
      description = "The `experts-panel` command, put on the system's PATH for operators.";
    };

    images = mkOption {
      type = types.package;
      default = flakePackages.images;
      defaultText = literalExpression "experts-panel.packages.\${system}.images";
      description = ''
        The API and web images and the `bin/load` script that loads them into Podman under the
        stable `:current` tag the Quadlet units run.
      '';
    };

    certbotPackage = mkPackageOption pkgs "certbot" { };

    domain = mkOption {
      type = types.strMatching "[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*";
      example = "panel.example.org";
      description = ''
        The panel's public name (several: comma-separated), for the certificate
        (`PANEL_DOMAIN`) and the allowed origin (`PRODUCTION_ORIGIN`, the first name).
      '';
    };

    acmeEmail = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "ops@example.org";
      description = "Account e-mail for the certificate authority's expiry notices; `null` registers without one.";
    };

    acmeServer = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://acme-staging-v02.api.letsencrypt.org/directory";
      description = "ACME directory URL; `null` means Let's Encrypt. For trials and tests.";
    };

    acmeCaBundle = mkOption {
      type = types.nullOr types.path;
      default = null;
      description = ''
        CA bundle certbot trusts for the ACME server (`REQUESTS_CA_BUNDLE`), for a private
        ACME server such as Pebble in tests. `null`: the system's.
      '';
    };

    user = mkOption {
      type = types.str;
      default = derived.user.name;
      defaultText = literalExpression ''"${derived.user.name}"'';
      description = ''
        The ordinary user that runs the whole stack under `systemd --user`; created, with
        lingering so the stack starts at boot. Inside the containers it is uid
        ${toString derived.user.uid} (`UserNS=keep-id`), so it owns the volumes on the host.
      '';
    };

    group = mkOption {
      type = types.str;
      default = cfg.user;
      defaultText = literalExpression "config.services.experts-panel.user";
      description = "The user's primary group; created.";
    };

    uid = mkOption {
      type = types.ints.between 1000 2147483646;
      default = derived.user.uid;
      defaultText = literalExpression "${toString derived.user.uid}";
      description = ''
        The user's uid on the host: Quadlet reads this user's units from
        /etc/containers/systemd/users/<uid>/.
      '';
    };

    home = mkOption {
      type = types.path;
      default = "/var/lib/experts-panel";
      description = "The user's home: Podman's storage, the volumes, certbot's state.";
    };

    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        LOG_LEVEL = "WARNING";
        DAILY_TOKEN_BUDGET = "500000";
        NOTIFY_COMMAND = ''mail -s "Experts Panel: $1 failed" root'';
      };
      description = ''
        Further settings for ~/.config/experts-panel/env: the service's
        (`experts-panel settings env-example` lists them) and the host-side scripts'
        (`BACKUP_OFFSITE_COMMAND`, `NOTIFY_COMMAND`). They land in the Nix store: put secrets
        in {option}`environmentFile` or {option}`apiKeyFile`.
      '';
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/keys/experts-panel.env";
      description = ''
        A file of further `NAME=value` lines, readable by root, appended to the settings file
        at every start (kept out of the Nix store).
      '';
    };

    apiKeyFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/keys/openrouter-api-key";
      description = ''
        File holding the OpenRouter (or other OpenAI-compatible) API key, loaded into the
        Podman secret `${derived.spec.secret.name}` at every start. `null`: a secret made by
        hand is kept, else the service answers with its embedded model.
      '';
    };

    backup = {
      schedule = mkOption {
        type = types.str;
        default = "*-*-* 03:15:00";
        example = "hourly";
        description = "When the online backup runs, as systemd's `OnCalendar=` ({manpage}`systemd.time(7)`).";
      };
      keepDaily = mkOption {
        type = types.ints.positive;
        default = 7;
        description = "Daily backups kept (`BACKUP_KEEP_DAILY`).";
      };
      keepWeekly = mkOption {
        type = types.ints.unsigned;
        default = 4;
        description = "Weekly backups kept besides the daily ones (`BACKUP_KEEP_WEEKLY`).";
      };
    };

    sync = {
      enable = mkOption {
        type = types.bool;
        default = false;
        example = true;
        description = ''
          Enable `${derived.spec.sync.timer}`: `experts-panel sync` every hour (at a random time
          within its first 15 minutes) in a short-lived container from the API image, which
          fetches what is new in each expert that has a Telegram username and indexes it.
          Off by default: the sync needs the Telegram account's session file first, made once
          by `experts-panel telegram login` in an interactive container (docs/nix.md says how).
          Off, the units are installed all the same and `systemctl --user start
          experts-panel-sync` runs one sync by hand.
        '';
      };
      telegramApiId = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        example = 1234567;
        description = ''
          The Telegram application's `api_id` (`TELEGRAM_API_ID`), from my.telegram.org.
          `null`: none in the settings file, unless {option}`environmentFile` gives it.
        '';
      };
      telegramApiHashFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/run/keys/telegram-api-hash";
        description = ''
          File holding the Telegram application's `api_hash`, loaded into the Podman secret
          `${derived.spec.sync.secret.name}` at every start; the sync reads it as a mounted
          file (`${derived.spec.sync.secret.env}`), never from its environment. Keep it out of
          the Nix store (a path as a string, not a Nix path). `null`: a secret made by hand is
          kept.
        '';
      };
    };

    extraNginxHeaders = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        "Content-Security-Policy" = "default-src 'self'";
      };
      description = ''
        Response headers nginx adds besides its own, written to extra-headers.conf in the
        certs volume, which nginx/nginx.conf includes.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Open TCP 80 (ACME challenges, redirect) and 443 in the firewall.";
    };

    hardenHost = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Also harden the host's SSH for a public address: enable it with keys only (no
        password or keyboard-interactive login, root by key only) and fail2ban's sshd jail.
        Off by default: how a host is reached belongs to its own configuration, and a
        service module leaves it alone unless asked.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = builtins.all (name: builtins.match "[A-Z][A-Z0-9_]*" name != null) (
          builtins.attrNames cfg.environment
        );
        message = "services.experts-panel.environment: names must be UPPER_CASE variables, got ${concatStringsSep ", " (builtins.attrNames cfg.environment)}";
      }
      {
        assertion = builtins.all (value: !(lib.hasInfix "\n" value)) (builtins.attrValues settings);
        message = "services.experts-panel.environment: a value holds a newline, which the env file cannot carry";
      }
      {
        assertion =
          !cfg.sync.enable
          || cfg.sync.telegramApiId != null
          || cfg.environment ? TELEGRAM_API_ID
          || cfg.environmentFile != null;
        message = "services.experts-panel.sync.enable: the sync needs the Telegram application's api_id: set services.experts-panel.sync.telegramApiId (or TELEGRAM_API_ID in environment or environmentFile)";
      }
      {
        assertion = cfg.extraNginxHeaders == { } || lib.hasInfix "/etc/experts-panel/tls/extra-headers" nginxConf;
        message = "services.experts-panel.extraNginxHeaders: nginx/nginx.conf does not include /etc/experts-panel/tls/extra-headers*.conf, so the headers would be ignored (docs/nix.md says what to add)";
      }
    ];

    users.groups.${cfg.group} = { };
    users.users.${cfg.user} = {
      isNormalUser = true;
      inherit (cfg) uid home group;
      description = "Experts Panel (rootless Podman stack)";
      createHome = true;
      # Starts the user's systemd, and with it the stack, at boot without a login.
      linger = true;
      # Rootless Podman maps the containers' other ids into a subordinate range.
      autoSubUidGidRange = true;
      packages = [ cfg.package ];
    };

    virtualisation.podman.enable = true;

    # nginx listens on 8080/8443 in the pod; rootless Podman publishes 80 and 443.
    boot.kernel.sysctl."net.ipv4.ip_unprivileged_port_start" = 80;
    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall [
      80
      443
    ];

    # Podman's user units wait for network-online.target, which nothing else may pull in.
    systemd.targets.network-online.wantedBy = [ "multi-user.target" ];

    # The units, where Quadlet's user generator reads them for this uid only.
    environment.etc = lib.listToAttrs (
      map (file: {
        name = "containers/systemd/users/${uid}/${file}";
        value.source = unitFile file;
      }) quadletUnits
    );

    # The user's own files, as the operator's guide installs them: the plain systemd units and
    # their timers (enabled), the scripts, and the NixOS drop-ins.
    systemd.tmpfiles.rules = [
      (owned "${cfg.home}/.config")
      (owned "${cfg.home}/.config/systemd")
      (owned userDir)
      (owned "${userDir}/timers.target.wants")
      (owned "${userDir}/experts-panel.service.d")
      (owned "${userDir}/experts-panel-.service.d")
      (owned "${userDir}/experts-panel-backup.timer.d")
      (owned "${cfg.home}/.local")
      (owned "${cfg.home}/.local/lib")
      (owned "${cfg.home}/.local/share")
      (owned "${cfg.home}/.local/state")
      (link "${cfg.home}/.local/lib/experts-panel" scripts)
      (link "${userDir}/experts-panel-setup.service" setupUnit)
      (link "${userDir}/experts-panel.service.d/50-nixos-setup.conf" podDropIn)
      (link "${userDir}/experts-panel-.service.d/50-nixos-path.conf" pathDropIn)
      (link "${userDir}/experts-panel-backup.timer.d/50-nixos-schedule.conf" scheduleDropIn)
    ]
    ++ map (file: link "${userDir}/${file}" (unitFile file)) userUnits
    ++ map (file: link "${userDir}/timers.target.wants/${file}" (unitFile file)) timers;

    # On every switch (and at boot): the user's manager rereads its units, the setup runs again
    # (new settings, key or images), the stack starts, and `podman auto-update` moves a running
    # stack onto newly loaded images, rolling back one that does not get healthy.
    systemd.services.experts-panel-refresh = {
      description = "Experts Panel: apply the NixOS configuration to the user's stack";
      wantedBy = [ "multi-user.target" ];
      wants = [ "user@${uid}.service" ];
      after = [
        "user@${uid}.service"
        "systemd-tmpfiles-setup.service"
      ];
      restartTriggers = [
        setupUnit
        envFile
        scripts
      ];
      path = [ config.systemd.package ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
      };
      script = ''
        systemctl ${asUser} daemon-reload
        # A timer linked into timers.target.wants runs from the next start of the user's
        # manager; start the enabled ones now, so turning sync.enable on takes effect at this
        # switch, and stop the sync's when it is off (its link is gone, its timer may run).
        systemctl ${asUser} start ${concatStringsSep " " timers}
        ${optionalString (!cfg.sync.enable) "systemctl ${asUser} stop ${syncTimer}"}
        systemctl ${asUser} restart experts-panel-setup.service
        systemctl ${asUser} start experts-panel.service
        # Up and healthy first, so auto-update compares against a running stack; this unit's
        # start fails unless both containers are healthy.
        systemctl ${asUser} start experts-panel-healthy.service
        systemd-run ${asUser} --wait --quiet --collect --pipe \
          --property=Environment=PATH=${userPath} podman auto-update
      '';
    };

    environment.systemPackages = [ cfg.package ];

    # Hardening: what a host on a public address needs.
    services.openssh = mkIf cfg.hardenHost {
      enable = mkDefault true;
      settings = {
        PasswordAuthentication = mkDefault false;
        KbdInteractiveAuthentication = mkDefault false;
        PermitRootLogin = mkDefault "prohibit-password";
      };
    };
    # NixOS's fail2ban module sets up its sshd jail whenever openssh is enabled.
    services.fail2ban.enable = mkIf cfg.hardenHost true;
  };
}
