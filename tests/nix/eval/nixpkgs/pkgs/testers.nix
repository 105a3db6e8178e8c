# Stand-in for testers.runNixOSTest and the NixOS test framework it evaluates.
#   nixpkgs: pkgs/build-support/testers/default.nix (runNixOSTest: hostPkgs and node.pkgs
#   are the calling pkgs), nixos/lib/testing/default.nix (lib.evalModules over the test
#   modules), nixos/lib/testing/name.nix (name: str), nodes.nix (nodes, defaults,
#   extraBaseModules, node.pkgs, node.specialArgs; each node a NixOS configuration with the
#   `nodes` argument), testScript.nix (testScript: str or a function of { nodes } to str;
#   testScriptString), network.nix (node numbers, networking.primaryIPAddress), pkgs.nix
#   (the `pkgs` argument is hostPkgs), run.nix (passthru, test: the derivation, whose
#   passthru carries `config` and `nodes`).
#
# Every node is evaluated to its VM start script (system.build.vm, which reads the
# virtualisation options and the system derivation) and the test script to its final
# string, so both are forced as far as evaluation goes; the test driver is not stubbed.
{ lib, pkgs }:
let
  inherit (lib) mkOption types;
  nixosModules = import ../nixos/modules/module-list.nix;

  testFramework =
    { config, ... }:
    let
      nodeNumbers = lib.listToAttrs (
        lib.zipListsWith lib.nameValuePair (lib.attrNames config.nodes) (lib.range 1 254)
      );
      testNodeModule =
        { config, name, ... }:
        {
          imports = [ ../nixos/modules/virtualisation/qemu-vm.nix ];
          options = {
            virtualisation.test.nodeName = mkOption {
              internal = true;
              default = name;
            };
            virtualisation.test.nodeNumber = mkOption {
              internal = true;
              type = types.int;
              readOnly = true;
              default = nodeNumbers.${config.virtualisation.test.nodeName};
            };
            networking.primaryIPAddress = mkOption {
              type = types.str;
              default = "";
            };
          };
          config = {
            networking.hostName = lib.mkDefault config.virtualisation.test.nodeName;
            networking.primaryIPAddress = "192.168.1.${toString config.virtualisation.test.nodeNumber}";
          };
        };
      baseOS = lib.evalModules {
        class = "nixos";
        specialArgs = {
          modulesPath = toString ../nixos/modules;
        }
        // config.node.specialArgs;
        modules = nixosModules ++ [
          testNodeModule
          {
            key = "nodes";
            _module.args = {
              nodes = config.nodes;
              pkgs = config.node.pkgs;
              utils = { };
            };
          }
          config.defaults
          config.extraBaseModules
        ];
      };
    in
    {
      options = {
        name = mkOption { type = types.str; };
        hostPkgs = mkOption { type = types.raw; };
        node.pkgs = mkOption {
          type = types.nullOr types.raw;
          default = null;
        };
        node.specialArgs = mkOption {
          type = types.lazyAttrsOf types.raw;
          default = { };
        };
        nodes = mkOption { type = types.lazyAttrsOf baseOS.type; };
        defaults = mkOption {
          type = types.deferredModule;
          default = { };
        };
        extraBaseModules = mkOption {
          type = types.deferredModule;
          default = { };
        };
        testScript = mkOption { type = types.either types.str (types.functionTo types.str); };
        testScriptString = mkOption {
          type = types.str;
          readOnly = true;
          internal = true;
        };
        meta = mkOption {
          type = types.lazyAttrsOf types.raw;
          default = { };
        };
        passthru = mkOption { type = types.lazyAttrsOf types.raw; };
        test = mkOption { type = types.package; };
      };
      config = {
        _module.args = {
          inherit (config) hostPkgs nodes;
          pkgs = config.hostPkgs;
        };
        testScriptString =
          if lib.isFunction config.testScript then
            config.testScript { inherit (config) nodes; }
          else
            config.testScript;
        passthru = {
          inherit config;
          inherit (config) nodes;
        };
        test = config.hostPkgs.runCommand "vm-test-run-${config.name}" {
          requiredSystemFeatures = [
            "nixos-test"
            "kvm"
          ];
          testScript = config.testScriptString;
          vms = lib.mapAttrsToList (_: node: node.system.build.vm) config.nodes;
          inherit (config) passthru;
        } "exit 1";
      };
    };
in
{
  runNixOSTest =
    testModule:
    (lib.evalModules {
      class = "nixosTest";
      modules = [
        testFramework
        {
          hostPkgs = pkgs;
          node.pkgs = pkgs;
        }
        (lib.setDefaultModuleLocation "the argument that was passed to pkgs.runNixOSTest" testModule)
      ];
    }).config.test;
}
