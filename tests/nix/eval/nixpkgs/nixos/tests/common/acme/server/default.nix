# Stand-in of nixpkgs' nixos/tests/common/acme/server/default.nix (Pebble as an ACME
# server for NixOS tests): the test-support.acme options other nodes read (caDomain a
# string, caCert a path) and the ports it opens.
{ config, lib, pkgs, ... }:
{
  options.test-support.acme = {
    caDomain = lib.mkOption {
      type = lib.types.str;
      readOnly = true;
      default = "acme.test";
    };
    caCert = lib.mkOption {
      type = lib.types.path;
      readOnly = true;
      default = pkgs.writeText "ca.cert.pem" "stand-in test CA certificate\n";
    };
  };

  config = {
    networking.firewall.allowedTCPPorts = [
      80
      443
      15000
    ];
    security.pki.certificateFiles = [ config.test-support.acme.caCert ];
    networking.hosts."127.0.0.1" = [ config.test-support.acme.caDomain ];
    systemd.services.pebble = {
      description = "Pebble ACME server";
      wantedBy = [ "multi-user.target" ];
      serviceConfig.ExecStart = "${pkgs.pebble}/bin/pebble";
    };
  };
}
