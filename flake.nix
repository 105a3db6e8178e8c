{
  description = "Experts Panel: ask one question, get answers from several Telegram-channel experts";

  # The one input, pinned in flake.lock; `nix flake update` moves it (docs/nix.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # Everything the flake builds, once per system (nix/packages.nix).
      packageSet = pkgs: import ./nix/packages.nix { inherit pkgs; };
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          set = packageSet pkgs;
        in
        {
          # `nix build` / `nix run .#experts-panel -- --help`: the command line.
          default = set.experts-panel;
          inherit (set) experts-panel frontend images;
          # Each image's stream on its own, for `$(nix build --print-out-paths .#api-image) | podman load`.
          api-image = set.images.api;
          web-image = set.images.web;
        }
      );

      # `nix run`: the local demo (three bundled experts, the embedded model, the front end and
      # the API on http://127.0.0.1:8000), as scripts/demo runs it from a checkout.
      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = lib.getExe (packageSet pkgs).demo;
          meta.description = "The Experts Panel demo on http://127.0.0.1:8000";
        };
      });

      nixosModules.default = import ./nix/module.nix { inherit self; };

      # `nix flake check`: the service's own test suite, and a NixOS VM test of a whole host.
      checks = forAllSystems (
        pkgs:
        let
          set = packageSet pkgs;
        in
        {
          pytest = pkgs.callPackage ./nix/tests/pytest.nix { inherit (set) experts-panel python3; };
          host = pkgs.testers.runNixOSTest (
            import ./nix/tests/host.nix {
              module = self.nixosModules.default;
              acmeServer = "${nixpkgs}/nixos/tests/common/acme/server";
            }
          );
        }
      );
    };
}
