# Stand-in of nixos/modules/misc/assertions.nix: `assertions` (a list of
# { assertion; message; }) and `warnings`, checked by system/activation/top-level.nix.
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      internal = true;
      default = [ ];
    };
    warnings = lib.mkOption {
      internal = true;
      default = [ ];
      type = lib.types.listOf lib.types.str;
    };
  };
}
