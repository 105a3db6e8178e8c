# Stand-in of nixos/modules/security/ca.nix: security.pki.certificateFiles.
{ config, lib, pkgs, ... }:
{
  options.security.pki.certificateFiles = lib.mkOption {
    type = lib.types.listOf lib.types.path;
    default = [ ];
  };

  config.environment.etc."ssl/certs/ca-certificates.crt".source =
    pkgs.runCommand "ca-bundle.crt" { files = map (f: "${f}") config.security.pki.certificateFiles; }
      "exit 1";
}
