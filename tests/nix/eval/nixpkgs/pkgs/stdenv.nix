# Stand-in for stdenv and stdenv.mkDerivation.
#   nixpkgs: pkgs/stdenv/generic/make-derivation.nix (arguments, fixed point, passthru, meta,
#   overrideAttrs, the dependency type check) and pkgs/stdenv/generic/check-meta.nix (the
#   types of meta attributes).
#
# It makes a real derivation, so `drvPath` exists and every path or package it is handed is
# copied to the store or depended on exactly as in a real build, but its builder only fails:
# nothing evaluated against the stand-in is ever built. Attributes pass through as in
# nixpkgs; the ones the project uses are type-checked, so a string where a list belongs, or
# a `src` that is neither a path nor a package, fails the evaluation with the attribute's
# name.
{ lib, system }:
let
  inherit (lib)
    all
    concatStringsSep
    isAttrs
    isBool
    isDerivation
    isFunction
    isInt
    isList
    isString
    ;

  fail = name: attr: msg: throw "stand-in stdenv.mkDerivation (${name}): `${attr}` ${msg}";

  describe = v: if isDerivation v then "a package" else "a ${builtins.typeOf v}";

  # The sources a build can start from: a path, a package, or a store path string (what
  # lib.fileset.toSource and builtins.path return).
  isSource =
    v:
    builtins.isPath v
    || isDerivation v
    || (isString v && lib.hasPrefix builtins.storeDir v)
    || (isAttrs v && v ? outPath);

  # make-derivation.nix accepts, in the dependency lists, packages, paths, strings and null,
  # nested lists of those included; anything else is "not of a valid type".
  validDependency =
    dep:
    dep == null || isDerivation dep || builtins.isPath dep || isString dep || (isList dep && all validDependency dep);

  dependencyLists = [
    "nativeBuildInputs"
    "buildInputs"
    "propagatedBuildInputs"
    "propagatedNativeBuildInputs"
    "checkInputs"
    "nativeCheckInputs"
    "installCheckInputs"
    "nativeInstallCheckInputs"
    "depsBuildBuild"
    "depsTargetTargetPropagated"
  ];

  stringLists = [
    "outputs"
    "passAsFile"
    "patches"
    "configureFlags"
    "makeFlags"
    "pythonImportsCheck"
    "requiredSystemFeatures"
  ];

  # Shell snippets: strings (a path to a script is not accepted by the phases either).
  scripts = [
    "buildCommand"
    "unpackPhase"
    "patchPhase"
    "configurePhase"
    "buildPhase"
    "checkPhase"
    "installPhase"
    "fixupPhase"
    "installCheckPhase"
    "prePatch"
    "postPatch"
    "preBuild"
    "postBuild"
    "preInstall"
    "postInstall"
    "preFixup"
    "postFixup"
    "shellHook"
  ];

  # check-meta.nix's metaTypes, for the attributes this project sets.
  metaChecks = {
    description = isString;
    longDescription = isString;
    mainProgram = isString;
    homepage = v: isString v || (isList v && all isString v);
    license = v: isAttrs v || isString v || (isList v && all (l: isAttrs l || isString l) v);
    platforms = v: isList v && all (p: isString p || isAttrs p) v;
    badPlatforms = v: isList v && all (p: isString p || isAttrs p) v;
    maintainers = v: isList v && all isAttrs v;
    broken = isBool;
    priority = isInt;
    outputsToInstall = v: isList v && all isString v;
  };

  checkMeta =
    name: meta:
    if !isAttrs meta then
      fail name "meta" "must be an attribute set, got ${describe meta}"
    else
      all (
        key:
        (metaChecks ? ${key}) -> metaChecks.${key} meta.${key}
        || fail name "meta.${key}" "has the wrong type (${describe meta.${key}})"
      ) (builtins.attrNames meta);

  checkAttrs =
    name: attrs:
    let
      has = attr: attrs ? ${attr} && attrs.${attr} != null;
      checkList =
        valid: what: attr:
        !has attr
        || (
          if !isList attrs.${attr} then
            fail name attr "must be a list, got ${describe attrs.${attr}}"
          else
            all valid attrs.${attr} || fail name attr "holds an element that is not ${what}"
        );
    in
    (!has "src" || isSource attrs.src || fail name "src" "must be a path or a package, got ${describe attrs.src}")
    && all (checkList validDependency "a package, path or string") dependencyLists
    && all (checkList isString "a string") stringLists
    && all (
      attr: !has attr || isString attrs.${attr} || fail name attr "must be a string, got ${describe attrs.${attr}}"
    ) scripts
    && (!has "passthru" || isAttrs attrs.passthru || fail name "passthru" "must be an attribute set")
    && (!has "env" || isAttrs attrs.env || fail name "env" "must be an attribute set")
    && (!has "meta" || checkMeta name attrs.meta)
    && all (
      attr: !has attr || isString attrs.${attr} || fail name attr "must be a string, got ${describe attrs.${attr}}"
    ) [ "name" "pname" "version" ]
    && all (attr: !has attr || isBool attrs.${attr} || fail name attr "must be a boolean") [
      "doCheck"
      "doInstallCheck"
      "dontStrip"
      "strictDeps"
      "preferLocalBuild"
      "allowSubstitutes"
      "__structuredAttrs"
    ];

  mkDerivation =
    argsOrFunction:
    let
      attrs =
        if isFunction argsOrFunction then lib.fix (final: argsOrFunction final) else argsOrFunction;
      name =
        if attrs ? name then
          attrs.name
        else if attrs ? pname && attrs ? version then
          "${attrs.pname}-${attrs.version}"
        else
          throw "stand-in stdenv.mkDerivation: neither `name` nor `pname` and `version` are given";
      meta = attrs.meta or { };
      passthru = attrs.passthru or { };
      env = attrs.env or { };
      outputs = attrs.outputs or [ "out" ];
      checked = checkAttrs name attrs;
      # The checks run when the derivation is instantiated (drvPath, outPath), as nixpkgs'
      # do: asking a package for its passthru or meta does not force them.
      derivationAttrs =
        removeAttrs attrs [
          "meta"
          "passthru"
          "pos"
          "env"
          "outputs"
        ]
        // env
        // {
          inherit name system outputs;
          standInChecks = if checked then "passed" else "failed";
          builder = "/bin/sh";
          args = [
            "-c"
            "echo 'built with the stand-in nixpkgs of tests/nix/eval: evaluation only' >&2; exit 1"
          ];
        };
      drv = derivation derivationAttrs;
      result =
        drv
        // passthru
        // {
          inherit passthru;
          meta = meta // {
            outputsToInstall = meta.outputsToInstall or [ (builtins.head outputs) ];
          };
          # make-derivation.nix: `drv.overrideAttrs (final: prev: { })` or `(prev: { })`.
          overrideAttrs =
            f:
            mkDerivation (
              final:
              let
                previous = if isFunction argsOrFunction then argsOrFunction final else argsOrFunction;
                change = f previous;
              in
              previous // (if isFunction change then change previous else change)
            );
          drvAttrs = derivationAttrs;
        };
    in
    result;

  hostPlatform = lib.systems.elaborate system;
  mkStdenv = cc: {
    inherit mkDerivation hostPlatform system;
    buildPlatform = hostPlatform;
    targetPlatform = hostPlatform;
    inherit (hostPlatform) isLinux isDarwin;
    inherit cc;
    # stdenv.shellDryRun: the `bash -n` writeShellScript's check phase runs.
    shellDryRun = "/bin/sh -n -O extglob";
  };
in
{
  stdenv = mkStdenv null;
  stdenvNoCC = mkStdenv null;
  inherit mkDerivation;
}
