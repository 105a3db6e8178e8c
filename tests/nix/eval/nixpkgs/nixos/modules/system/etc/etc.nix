# Stand-in of nixos/modules/system/etc/etc.nix: environment.etc.<name> with `source` a
# path, `text` lines (written to the store with writeText), and the other attributes of
# the entry; the etc tree is built from `"${source}"` of every enabled entry, so a source
# path Nix cannot copy to the store (a name with "@") fails here as it does in NixOS.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  entries = lib.filter (f: f.enable) (lib.attrValues config.environment.etc);
in
{
  options.environment.etc = mkOption {
    default = { };
    type = types.attrsOf (
      types.submodule (
        { name, config, ... }:
        {
          options = {
            enable = mkOption {
              type = types.bool;
              default = true;
            };
            target = mkOption {
              type = types.str;
              default = name;
            };
            text = mkOption {
              default = null;
              type = types.nullOr types.lines;
            };
            source = mkOption {
              type = types.path;
            };
            mode = mkOption {
              type = types.str;
              default = "symlink";
            };
            uid = mkOption {
              default = 0;
              type = types.int;
            };
            gid = mkOption {
              default = 0;
              type = types.int;
            };
            user = mkOption {
              default = "+${toString config.uid}";
              type = types.str;
            };
            group = mkOption {
              default = "+${toString config.gid}";
              type = types.str;
            };
          };
          config.source = lib.mkIf (config.text != null) (
            lib.mkDefault (pkgs.writeText "etc-${lib.replaceStrings [ "/" ] [ "-" ] name}" config.text)
          );
        }
      )
    );
  };

  config.system.build.etc = pkgs.runCommandLocal "etc" {
    entries = map (e: lib.escapeShellArgs [ "${e.source}" e.target e.mode e.user e.group ]) entries;
  } "exit 1";
}
