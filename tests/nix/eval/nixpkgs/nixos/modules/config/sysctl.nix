# Stand-in of nixos/modules/config/sysctl.nix: boot.kernel.sysctl with its real type (a
# submodule whose free-form values are booleans, strings, integers or null) and the
# /etc/sysctl.d/60-nixos.conf it writes.
{ config, lib, ... }:
let
  sysctlOption = lib.mkOptionType {
    name = "sysctl option value";
    check =
      val:
      let
        checkType = x: lib.isBool x || lib.isString x || lib.isInt x || x == null;
      in
      checkType val || (val._type or "" == "override" && checkType val.content);
    merge = loc: defs: lib.mergeOneOption loc defs;
  };
in
{
  options.boot.kernel.sysctl = lib.mkOption {
    default = { };
    type = lib.types.submodule {
      options = {
        "net.core.rmem_max" = lib.mkOption {
          default = null;
          type = lib.types.nullOr lib.types.ints.unsigned;
        };
        "net.core.wmem_max" = lib.mkOption {
          default = null;
          type = lib.types.nullOr lib.types.ints.unsigned;
        };
      };
      freeformType = lib.types.attrsOf sysctlOption;
    };
  };

  config.environment.etc."sysctl.d/60-nixos.conf".text = lib.concatStrings (
    lib.mapAttrsToList (
      n: v: lib.optionalString (v != null) "${n}=${if v == false then "0" else toString v}\n"
    ) config.boot.kernel.sysctl
  );
}
