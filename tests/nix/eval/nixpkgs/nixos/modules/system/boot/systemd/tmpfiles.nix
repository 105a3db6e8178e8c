# Stand-in of nixos/modules/system/boot/systemd/tmpfiles.nix: systemd.tmpfiles.rules, a
# list of lines written verbatim to /etc/tmpfiles.d/00-nixos.conf.
{ config, lib, ... }:
{
  options.systemd.tmpfiles.rules = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [ ];
  };

  config.environment.etc."tmpfiles.d/00-nixos.conf".text = ''
    # This file is created automatically and should not be modified.
    ${lib.concatStringsSep "\n" config.systemd.tmpfiles.rules}
  '';
}
