# Stand-in for buildEnv: the same closed argument set (no `...`), through
# lib.extendMkDerivation and lib.makeOverridable as in nixpkgs.
#   nixpkgs: pkgs/build-support/buildenv/default.nix
{ lib, stdenvNoCC }:
lib.makeOverridable (
  lib.extendMkDerivation {
    constructDrv = stdenvNoCC.mkDerivation;
    excludeDrvArgNames = [
      "derivationArgs"
      "paths"
    ];
    extendDrvArgs =
      finalAttrs:
      {
        paths,
        buildInputs ? null,
        checkCollisionContents ? true,
        derivationArgs ? { },
        extraOutputsToInstall ? [ ],
        extraPrefix ? "",
        ignoreCollisions ? false,
        ignoreSingleFileOutputs ? false,
        includeClosures ? false,
        manifest ? "",
        meta ? { },
        name ? null,
        nativeBuildInputs ? null,
        passthru ? { },
        pathsToLink ? [ "/" ],
        pname ? null,
        postBuild ? "",
        version ? null,
      }@args:
      let
        label = if name != null then name else "buildEnv";
      in
      let
        # Checked when the environment is instantiated, where builder.pl would fail.
        checkedPaths =
          if !builtins.isList paths then
            throw "buildEnv ${label}: `paths` must be a list"
          else if !lib.all (p: p == null || lib.isDerivation p) paths then
            throw "buildEnv ${label}: every element of `paths` must be a package"
          else
            paths;
        checkedLinks =
          if
            builtins.isList pathsToLink && lib.all (p: builtins.isString p && lib.hasPrefix "/" p) pathsToLink
          then
            pathsToLink
          else
            throw "buildEnv ${label}: `pathsToLink` must be a list of absolute paths such as \"/bin\"";
      in
      lib.optionalAttrs (args ? buildInputs) { inherit buildInputs; }
      // lib.optionalAttrs (args ? nativeBuildInputs) { inherit nativeBuildInputs; }
      // derivationArgs
      // {
        inherit
          extraOutputsToInstall
          manifest
          ignoreCollisions
          checkCollisionContents
          ignoreSingleFileOutputs
          includeClosures
          meta
          extraPrefix
          postBuild
          ;
        ${if name != null then "name" else null} = name;
        ${if pname != null then "pname" else null} = pname;
        ${if version != null then "version" else null} = version;
        pathsToLink = checkedLinks;
        __structuredAttrs = true;
        chosenOutputs = map (drv: {
          paths = if drv == null then [ ] else [ drv ];
        }) checkedPaths;
        buildCommand = "exit 1";
        passthru = {
          inherit paths;
        }
        // passthru;
      };
    inheritFunctionArgs = false;
  }
)
