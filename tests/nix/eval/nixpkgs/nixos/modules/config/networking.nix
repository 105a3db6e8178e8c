# Stand-in of nixos/modules/config/networking.nix: networking.hosts, written to /etc/hosts.
{ config, lib, ... }:
{
  options.networking = {
    hosts = lib.mkOption {
      type = lib.types.attrsOf (lib.types.listOf lib.types.str);
      default = { };
    };
    hostName = lib.mkOption {
      type = lib.types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "nixos";
    };
    extraHosts = lib.mkOption {
      type = lib.types.lines;
      default = "";
    };
  };

  config.environment.etc.hosts.text =
    lib.concatStrings (
      lib.mapAttrsToList (ip: names: "${ip} ${lib.concatStringsSep " " names}\n") config.networking.hosts
    )
    + config.networking.extraHosts;
}
