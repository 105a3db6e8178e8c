{
  # A stand-in for nixpkgs (its flake.nix: lib, lib.nixosSystem from nixos/lib/eval-config.nix,
  # legacyPackages), to evaluate the project's flake without it (tests/nix/eval/run):
  # nixpkgs' real `lib` (placed in ./lib by that script, never committed) and stand-ins for
  # everything else under ./pkgs and ./nixos, each naming the nixpkgs file it follows.
  description = "Stand-in nixpkgs for offline evaluation";

  outputs =
    { self }:
    let
      # As nixpkgs' flake.nix does: its lib, extended with nixosSystem.
      lib = (import ./lib).extend (
        final: prev: {
          nixosSystem =
            {
              system,
              modules,
              specialArgs ? { },
            }:
            import ./nixos/lib/eval-config.nix {
              inherit modules specialArgs;
              lib = final;
              pkgs = self.legacyPackages.${system};
            };
        }
      );
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
      ] (system: import ./pkgs { inherit lib system; });
    };
}
