# Stand-in of nixos/modules/system/activation/top-level.nix: system.build.toplevel, the
# system derivation, which depends on everything the configuration writes (etc, units,
# the system profile) and, as in NixOS, throws the failed assertions and shows the
# warnings before it can be evaluated.
{ config, lib, pkgs, ... }:
let
  failedAssertions = map (x: x.message) (lib.filter (x: !x.assertion) config.assertions);
  toplevel = pkgs.runCommand "nixos-system-${config.networking.hostName}" {
    etc = config.system.build.etc;
    systemPath = config.system.path;
    units = lib.attrValues config.systemd.units;
    sysctl = builtins.toJSON config.boot.kernel.sysctl;
  } "exit 1";
in
{
  options.system.build = lib.mkOption {
    internal = true;
    default = { };
    type = lib.types.submoduleWith {
      modules = [
        {
          freeformType = lib.types.lazyAttrsOf lib.types.unspecified;
        }
      ];
    };
  };

  config.system.build.toplevel =
    if failedAssertions != [ ] then
      throw "\nFailed assertions:\n${lib.concatMapStrings (x: "- ${x}\n") failedAssertions}"
    else
      lib.foldr lib.warn toplevel config.warnings;
}
