# Stand-in of nixos/modules/services/security/fail2ban.nix: services.fail2ban.enable; with
# it, the sshd jail is set up whenever services.openssh is enabled.
{ config, lib, pkgs, ... }:
{
  options.services.fail2ban.enable = lib.mkEnableOption "the fail2ban service";

  config = lib.mkIf config.services.fail2ban.enable {
    environment.systemPackages = [ pkgs.fail2ban ];
    environment.etc."fail2ban/jail.d/sshd.local".text = lib.optionalString config.services.openssh.enable ''
      [sshd]
      enabled = true
    '';
    systemd.services.fail2ban = {
      description = "Fail2ban Intrusion Prevention System";
      wantedBy = [ "multi-user.target" ];
      after = [ "network.target" ];
      serviceConfig.ExecStart = "${pkgs.fail2ban}/bin/fail2ban-server -xf start";
    };
  };
}
