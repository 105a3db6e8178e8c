# Stand-in of nixos/modules/services/networking/firewall.nix: the open TCP and UDP ports
# (lists of ports, sorted and deduplicated on the way out, as there).
{ config, lib, ... }:
let
  canonicalizePortList = ports: lib.unique (builtins.sort builtins.lessThan ports);
in
{
  options.networking.firewall = {
    enable = lib.mkOption {
      default = true;
      type = lib.types.bool;
    };
    allowedTCPPorts = lib.mkOption {
      apply = canonicalizePortList;
      default = [ ];
      type = lib.types.listOf lib.types.port;
    };
    allowedUDPPorts = lib.mkOption {
      apply = canonicalizePortList;
      default = [ ];
      type = lib.types.listOf lib.types.port;
    };
    trustedInterfaces = lib.mkOption {
      default = [ ];
      type = lib.types.listOf lib.types.str;
    };
  };

  config.environment.etc."nixos-stub/firewall.json".text = builtins.toJSON {
    inherit (config.networking.firewall)
      enable
      allowedTCPPorts
      allowedUDPPorts
      trustedInterfaces
      ;
  };
}
