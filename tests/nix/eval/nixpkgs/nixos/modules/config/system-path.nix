# Stand-in of nixos/modules/config/system-path.nix: environment.systemPackages, joined
# into the system's profile with buildEnv.
{ config, lib, pkgs, ... }:
{
  options.environment.systemPackages = lib.mkOption {
    type = lib.types.listOf lib.types.package;
    default = [ ];
  };

  options.system.path = lib.mkOption {
    internal = true;
    type = lib.types.package;
  };

  config.system.path = pkgs.buildEnv {
    name = "system-path";
    paths = config.environment.systemPackages;
    pathsToLink = [ "/bin" "/share" "/lib" ];
  };
}
