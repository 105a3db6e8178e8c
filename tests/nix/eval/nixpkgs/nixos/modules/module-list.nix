# The NixOS modules the stand-in has, each a stand-in of the nixpkgs file of the same path.
[
  ./misc/assertions.nix
  ./config/users-groups.nix
  ./config/sysctl.nix
  ./config/networking.nix
  ./config/system-path.nix
  ./security/ca.nix
  ./services/networking/firewall.nix
  ./services/networking/ssh/sshd.nix
  ./services/security/fail2ban.nix
  ./system/boot/systemd.nix
  ./system/boot/systemd/tmpfiles.nix
  ./system/etc/etc.nix
  ./system/activation/top-level.nix
  ./virtualisation/podman/default.nix
]
