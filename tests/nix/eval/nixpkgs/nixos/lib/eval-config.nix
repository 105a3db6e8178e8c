# Stand-in of nixos/lib/eval-config.nix: lib.evalModules over the stand-in's NixOS modules
# (nixos/modules/module-list.nix) and the given ones, with `pkgs` as a module argument.
{
  lib,
  pkgs,
  modules,
  baseModules ? import ../modules/module-list.nix,
  specialArgs ? { },
}:
lib.evalModules {
  class = "nixos";
  specialArgs = {
    modulesPath = toString ../modules;
  }
  // specialArgs;
  modules =
    baseModules
    ++ [
      {
        _module.args = {
          inherit pkgs;
          utils = { };
        };
      }
    ]
    ++ modules;
}
