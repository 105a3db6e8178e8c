# The stand-in package set for one system (nixpkgs: pkgs/top-level/default.nix and
# all-packages.nix, as far as this project goes): nixpkgs' real `lib` with stand-ins for the
# builders and packages this project uses, each in the file named after the nixpkgs file
# it was checked against (see the header of each file). `callPackage` is lib.callPackageWith
# over this set, as in nixpkgs, so a function that asks for a package the set lacks fails
# with "Function called without required argument".
{ lib, system }:
lib.fix (
  pkgs:
  let
    callPackage = lib.callPackageWith pkgs;
    std = import ./stdenv.nix { inherit lib system; };
    trivial = callPackage ./trivial-builders.nix { };
    fetchers = callPackage ./fetchers.nix { };
    node = callPackage ./node.nix { };
  in
  {
    inherit lib system callPackage pkgs;
    inherit (std) stdenv stdenvNoCC;
    callPackages = lib.callPackagesWith pkgs;
    newScope = extra: lib.callPackageWith (pkgs // extra);
    path = ./..;
    # The package sets of the other platform pairs: one platform here.
    pkgsBuildBuild = pkgs;
    pkgsBuildHost = pkgs;
    pkgsBuildTarget = pkgs;
    pkgsHostHost = pkgs;
    pkgsTargetTarget = pkgs;
    buildPackages = pkgs;

    # pkgs/stdenv/generic: runtimeShell is bash's /bin/bash.
    runtimeShell = "${pkgs.bash}/bin/bash";

    # pkgs/build-support/trivial-builders/default.nix: emptyDirectory, a fixed-output path.
    emptyDirectory = trivial.runCommand "empty-directory" {
      outputHash = "0sjjj9z1dhilhpc8pq4154czrb79z9cm044jvn75kxcjv6v5l2m5";
      outputHashAlgo = "sha256";
      outputHashMode = "recursive";
    } "mkdir $out";

    inherit (trivial)
      runCommand
      runCommandWith
      runCommandLocal
      writeTextFile
      writeText
      writeTextDir
      writeScript
      writeShellScript
      writeShellApplication
      symlinkJoin
      ;
    inherit (fetchers) fetchurl fetchPypi;
    inherit (node) buildNpmPackage importNpmLock;

    buildEnv = callPackage ./buildenv.nix { };
    fakeNss = callPackage ./fake-nss.nix { };
    dockerTools = callPackage ./docker.nix { };

    # pkgs/development/interpreters/python/default.nix calls cpython with `self` and the
    # version; python3 is python314 in the snapshot read (python3Minimal is built from its
    # sources there).
    python313 = callPackage ./python.nix {
      self = pkgs.python313;
      sourceVersion = {
        major = "3";
        minor = "13";
        patch = "14";
        suffix = "";
      };
    };
    python314 = callPackage ./python.nix { self = pkgs.python314; };
    python3 = pkgs.python314;
    python3Packages = pkgs.python3.pkgs;

    testers = callPackage ./testers.nix { };
  }
  # Not through callPackage: the names of the set must not depend on the set.
  // import ./leaves.nix {
    inherit lib;
    inherit (std) stdenv;
  }
)
