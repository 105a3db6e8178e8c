# Stand-in of nixos/modules/config/users-groups.nix: users.users.<name> and
# users.groups.<name> with the real types of the attributes this project sets
# (`description` and `home` are passwd entries: no ":" or newline; `linger` is null, true
# or false), the defaults isNormalUser brings, and the assertions NixOS makes about them:
# unique uids, an existing primary group, a valid name, a normal user's uid >= 1000, and
# exactly one of isNormalUser and isSystemUser.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkDefault types;
  cfg = config.users;

  userOpts =
    { config, name, ... }:
    {
      options = {
        enable = mkOption {
          default = true;
          type = types.bool;
        };
        name = mkOption { type = types.passwdEntry types.str; };
        uid = mkOption {
          default = null;
          type = types.nullOr types.int;
        };
        group = mkOption {
          default = "";
          type = types.str;
        };
        extraGroups = mkOption {
          default = [ ];
          type = types.listOf types.str;
        };
        description = mkOption {
          default = "";
          type = types.passwdEntry types.str;
        };
        home = mkOption {
          default = "/var/empty";
          type = types.passwdEntry types.path;
        };
        createHome = mkOption {
          default = false;
          type = types.bool;
        };
        isNormalUser = mkOption {
          default = false;
          type = types.bool;
        };
        isSystemUser = mkOption {
          default = false;
          type = types.bool;
        };
        linger = mkOption {
          default = null;
          type = types.nullOr types.bool;
        };
        autoSubUidGidRange = mkOption {
          default = false;
          type = types.bool;
        };
        packages = mkOption {
          default = [ ];
          type = types.listOf types.package;
        };
        shell = mkOption {
          default = pkgs.shadow;
          type = types.nullOr (types.either types.shellPackage (types.passwdEntry types.path));
        };
        openssh.authorizedKeys.keys = mkOption {
          default = [ ];
          type = types.listOf types.singleLineStr;
        };
      };
      config = lib.mkMerge [
        { name = mkDefault name; }
        (lib.mkIf config.isNormalUser {
          group = mkDefault "users";
          createHome = mkDefault true;
          home = mkDefault "/home/${config.name}";
          isSystemUser = mkDefault false;
        })
      ];
    };

  groupOpts =
    { name, ... }:
    {
      options = {
        name = mkOption { type = types.passwdEntry types.str; };
        gid = mkOption {
          default = null;
          type = types.nullOr types.int;
        };
        members = mkOption {
          default = [ ];
          type = types.listOf (types.passwdEntry types.str);
        };
      };
      config.name = mkDefault name;
    };

  users = lib.filterAttrs (_: u: u.enable) cfg.users;
  uids = lib.filter (u: u != null) (lib.mapAttrsToList (_: u: u.uid) users);
  groupNames = lib.mapAttrsToList (_: g: g.name) cfg.groups ++ [ "users" "root" "nogroup" ];
in
{
  options.users = {
    users = mkOption {
      default = { };
      type = types.attrsOf (types.submodule userOpts);
    };
    groups = mkOption {
      default = { };
      type = types.attrsOf (types.submodule groupOpts);
    };
  };

  config = {
    assertions = [
      {
        assertion = lib.length uids == lib.length (lib.unique uids);
        message = "UIDs and GIDs must be unique!";
      }
    ]
    ++ lib.flatten (
      lib.mapAttrsToList (name: user: [
        {
          assertion = builtins.match "[a-zA-Z0-9_.][a-zA-Z0-9_.-]*" user.name != null;
          message = "The username \"${user.name}\" is not valid.";
        }
        {
          assertion = user.group == "" || lib.elem user.group groupNames;
          message = "The following users have a primary group that is undefined: ${name}";
        }
        {
          assertion = user.isNormalUser && user.uid != null -> user.uid >= 1000;
          message = "A user cannot have a users.users.${name}.uid set below 1000 and set users.users.${name}.isNormalUser.";
        }
        {
          assertion = lib.xor user.isNormalUser user.isSystemUser;
          message = "Exactly one of users.users.${name}.isSystemUser and users.users.${name}.isNormalUser must be set.";
        }
      ]) users
    );

    # users-groups.nix writes users-groups.json for the activation script, and a profile
    # of each user's packages.
    environment.etc =
      {
        "nixos-stub/users-groups.json".text = builtins.toJSON {
          groups = lib.attrValues cfg.groups;
          users = lib.mapAttrsToList (_: u: {
            inherit (u)
              name
              uid
              group
              description
              home
              createHome
              isSystemUser
              linger
              autoSubUidGidRange
              extraGroups
              ;
            shell = if u.shell == null then null else "${u.shell}";
            authorizedKeys = u.openssh.authorizedKeys.keys;
          }) users;
        };
      }
      // lib.mapAttrs' (
        name: u:
        lib.nameValuePair "profiles/per-user/${name}" {
          source = pkgs.buildEnv {
            name = "user-environment";
            paths = u.packages;
          };
        }
      ) (lib.filterAttrs (_: u: u.packages != [ ]) users);
  };
}
