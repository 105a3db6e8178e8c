# Stand-in of nixos/modules/virtualisation/qemu-vm.nix (memorySize, cores) and
# nixos/modules/virtualisation/disk-size-option.nix (diskSize), which NixOS tests add to
# every node, and of the VM start script (system.build.vm) the test driver runs, which is
# where those values are read.
{ config, lib, pkgs, ... }:
let
  cfg = config.virtualisation;
in
{
  options.virtualisation = {
    memorySize = lib.mkOption {
      type = lib.types.ints.positive;
      default = 1024;
    };
    cores = lib.mkOption {
      type = lib.types.ints.positive;
      default = 1;
    };
    diskSize = lib.mkOption {
      type = lib.types.either (lib.types.enum [ "auto" ]) lib.types.ints.positive;
      default = 1024;
    };
  };

  config.system.build.vm = pkgs.writeShellScript "run-${config.networking.hostName}-vm" ''
    exec qemu-kvm -m ${toString cfg.memorySize} -smp ${toString cfg.cores} \
      -drive file=disk.qcow2,size=${toString cfg.diskSize}M \
      -kernel ${config.system.build.toplevel}/kernel
  '';
}
