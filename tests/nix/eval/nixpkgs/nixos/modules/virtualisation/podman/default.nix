# Stand-in of nixos/modules/virtualisation/podman/default.nix: enable and package (read by
# the service module for its PATH).
{ config, lib, pkgs, ... }:
let
  cfg = config.virtualisation.podman;
in
{
  options.virtualisation.podman = {
    enable = lib.mkEnableOption "Podman, a daemonless container engine";
    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.podman;
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    # Quadlet's generators come with the package, as systemd.packages does in nixpkgs.
    environment.etc."containers/policy.json".text = builtins.toJSON { default = [ { type = "insecureAcceptAnything"; } ]; };
  };
}
