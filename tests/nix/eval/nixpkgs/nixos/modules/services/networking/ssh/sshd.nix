# Stand-in of nixos/modules/services/networking/ssh/sshd.nix: services.openssh.enable and
# the settings this project sets, with their real types (nullable booleans, the
# PermitRootLogin enum) and a free-form rest; sshd_config is written from them.
{ config, lib, pkgs, ... }:
let
  cfg = config.services.openssh;
  value = lib.types.nullOr (
    lib.types.oneOf [
      lib.types.bool
      lib.types.int
      lib.types.str
      (lib.types.listOf lib.types.str)
    ]
  );
  render =
    v:
    if lib.isBool v then
      (if v then "yes" else "no")
    else if lib.isList v then
      lib.concatStringsSep "," v
    else
      toString v;
in
{
  options.services.openssh = {
    enable = lib.mkOption {
      type = lib.types.bool;
      default = false;
    };
    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = true;
    };
    ports = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [ 22 ];
    };
    settings = lib.mkOption {
      default = { };
      type = lib.types.submodule {
        freeformType = lib.types.attrsOf value;
        options = {
          PasswordAuthentication = lib.mkOption {
            default = true;
            type = lib.types.nullOr lib.types.bool;
          };
          KbdInteractiveAuthentication = lib.mkOption {
            default = true;
            type = lib.types.nullOr lib.types.bool;
          };
          PermitRootLogin = lib.mkOption {
            default = "prohibit-password";
            type = lib.types.nullOr (
              lib.types.enum [
                "yes"
                "without-password"
                "prohibit-password"
                "forced-commands-only"
                "no"
              ]
            );
          };
          X11Forwarding = lib.mkOption {
            default = false;
            type = lib.types.nullOr lib.types.bool;
          };
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    environment.etc."ssh/sshd_config".text =
      lib.concatMapStrings (port: "Port ${toString port}\n") cfg.ports
      + lib.concatStrings (
        lib.mapAttrsToList (k: v: lib.optionalString (v != null) "${k} ${render v}\n") cfg.settings
      );
    networking.firewall.allowedTCPPorts = lib.optionals cfg.openFirewall cfg.ports;
    environment.systemPackages = [ pkgs.openssh ];
  };
}
