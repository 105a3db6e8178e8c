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
