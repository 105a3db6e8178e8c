# Stand-in for the CPython interpreter and its package set.
#   nixpkgs: pkgs/development/interpreters/python/cpython/default.nix (the interpreter's
#   argument set, which `python3.override` takes and nothing else), passthrufun.nix (pkgs,
#   withPackages, sitePackages, packageOverrides applied last), python-packages-base.nix
#   (buildPythonPackage, buildPythonApplication, overridePythonAttrs, toPythonModule),
#   mk-python-derivation.nix (format/pyproject, dependencies, build-system),
#   wrapper.nix (withPackages), pkgs/top-level/python-packages.nix and python-aliases.nix
#   (which attributes exist).
# It is called with callPackage like cpython/default.nix, so `python3.override` (callPackage's)
# takes cpython's arguments and nothing else. Those the stand-in has no use for default to
# null.
{
  lib,
  stdenv,
  fetchurl ? null,
  autoconf-archive ? null,
  autoreconfHook ? null,
  bashNonInteractive ? null,
  bluez-headers ? null,
  bzip2 ? null,
  expat ? null,
  fetchgit ? null,
  fetchpatch ? null,
  gdbm ? null,
  hash ? "",
  libffi ? null,
  libuuid ? null,
  libxcrypt ? null,
  mailcap ? null,
  mpdecimal ? null,
  ncurses ? null,
  nukeReferences ? null,
  openssl ? null,
  passthruFun ? null,
  pkg-config ? null,
  pkgsBuildBuild ? null,
  pkgsBuildHost ? null,
  pkgsBuildTarget ? null,
  pkgsHostHost,
  pkgsTargetTarget ? null,
  python-setup-hook ? null,
  readline ? null,
  self,
  sourceVersion ? {
    major = "3";
    minor = "14";
    patch = "6";
    suffix = "";
  },
  sqlite ? null,
  testers ? null,
  tzdata ? null,
  windows ? null,
  xz ? null,
  zlib ? null,
  zstd ? null,
  __splices ? { },
  allowedReferenceNames ? [ ],
  bluezSupport ? true,
  enableDebug ? false,
  enableFramework ? false,
  enableGIL ? true,
  enableLTO ? true,
  enableNoSemanticInterposition ? true,
  enableOptimizations ? false,
  includeSiteCustomize ? true,
  mimetypesSupport ? true,
  noldconfigPatch ? null,
  packageOverrides ? (self: super: { }),
  pythonAttr ? "python${sourceVersion.major}${sourceVersion.minor}",
  rebuildBytecode ? true,
  reproducibleBuild ? false,
  static ? false,
  stripBytecode ? true,
  stripConfig ? false,
  stripIdlelib ? false,
  stripTests ? false,
  stripTkinter ? false,
  withExpat ? true,
  withGdbm ? true,
  withMinimalDeps ? false,
  withMpdecimal ? true,
  withOpenssl ? true,
  withReadline ? true,
  withSqlite ? true,
  withZstd ? true,
}:
assert lib.assertMsg (lib.isFunction packageOverrides)
  "python3.override: `packageOverrides` must be a function `self: super: { }`";
let
  inherit (lib) isDerivation;
  pkgs = pkgsHostHost;
  inherit (pkgs) buildEnv;

  # The Python packages this project takes from nixpkgs, each an attribute of
  # pkgs/top-level/python-packages.nix (pkgs/development/python-modules/<name>/) in the snapshot
  # read. The versions are those docs/nix.md lists where it lists one; nothing evaluated here
  # depends on them. Packages nixpkgs does not have are not here, so asking for one fails as
  # it would against nixpkgs: fasttext-predict in particular was removed on 2026-03-11
  # (python-aliases.nix: "removed as the only consumer searxng removed its usage"), before the
  # 26.05 branch-off.
  available = {
    aiosqlite = "0.21.0";
    anyascii = "0.3.3";
    anyio = "4.14.1";
    colorlog = "6.9.0";
    cryptography = "46.0.3";
    fastapi = "0.136.3";
    greenlet = "3.2.4";
    hatchling = "1.27.0";
    httpx = "0.28.1";
    httpx-sse = "0.4.3";
    hypercorn = "0.18.0";
    # In nixpkgs (rich depends on the one, hypothesis is a common test input); versions not read.
    hypothesis = "not-read";
    ijson = "3.5.1";
    markdown-it-py = "not-read";
    numpy = "2.4.2";
    orjson = "3.11.9";
    prometheus-client = "0.23.1";
    psutil = "7.1.3";
    pybind11 = "3.0.1";
    pydantic = "2.13.4";
    pystemmer = "3.0.0";
    pytest = "8.4.2";
    pytest-asyncio = "1.2.0";
    requests = "2.32.5";
    rich = "15.0.0";
    setuptools = "80.9.0";
    sqlalchemy = "2.0.51";
    sse-starlette = "3.2.0";
    starlette = "0.49.1";
    structlog = "26.1.0";
    tenacity = "9.1.4";
    # In nixpkgs (python-modules/telethon); version not read.
    telethon = "not-read";
    tqdm = "4.67.1";
    typer = "0.25.1";
    wheel = "0.45.1";
  };

  pythonVersion = "${sourceVersion.major}.${sourceVersion.minor}";
  libPrefix = "python${pythonVersion}";
  sitePackages = "lib/${libPrefix}/site-packages";
  executable = "python${pythonVersion}";
  interpreter = stdenv.mkDerivation {
    pname = "python3";
    version = "${pythonVersion}.${sourceVersion.patch}${sourceVersion.suffix}";
    meta = {
      mainProgram = "python3";
      platforms = lib.platforms.linux;
    };
  };

  # python-packages-base.nix: overridePythonAttrs re-calls the builder with changed
  # arguments; overrideAttrs changes the derivation.
  makeOverridablePythonPackage =
    f: origArgs:
    let
      result = f origArgs;
      overrideWith =
        newArgs: origArgs // (if lib.isFunction newArgs then newArgs origArgs else newArgs);
    in
    result
    // {
      overrideAttrs = g: makeOverridablePythonPackage (args: (f args).overrideAttrs g) origArgs;
      overridePythonAttrs = newArgs: makeOverridablePythonPackage f (overrideWith newArgs);
    };

  isPythonModule = drv: drv ? pythonModule && !lib.isBool drv.pythonModule;

  # mk-python-derivation.nix, as far as this project's arguments go.
  mkPythonDerivation =
    { providesModule }:
    attrs:
    let
      name = attrs.name or "${attrs.pname or "?"}-${attrs.version or "?"}";
      pyproject = attrs.pyproject or null;
      format = attrs.format or null;
      format' =
        assert lib.assertMsg (pyproject != null -> format == null)
          "${name}: `pyproject` and `format` are both set; set one";
        if pyproject != null then
          (if pyproject then "pyproject" else "other")
        else if format != null then
          format
        else
          throw "${name} does not configure a `format`. To build with setuptools as before, set `pyproject = true` and `build-system = [ setuptools ]`.";
      checkInputs =
        attr:
        let
          value = attrs.${attr} or [ ];
        in
        assert lib.assertMsg (builtins.isList value) "${name}: `${attr}` must be a list";
        assert lib.assertMsg (lib.all isDerivation value)
          "${name}: every element of `${attr}` must be a package";
        assert lib.assertMsg (lib.all (d: isPythonModule d -> d.pythonModule == interpreter) value)
          "${name}: `${attr}` holds a package built for another Python";
        value;
      dependencies = checkInputs "dependencies";
      build-system = checkInputs "build-system";
      optional-dependencies = attrs.optional-dependencies or { };
      drv = stdenv.mkDerivation (
        removeAttrs attrs [
          "disabled"
          "checkPhase"
          "checkInputs"
          "nativeCheckInputs"
          "doCheck"
          "doInstallCheck"
          "pyproject"
          "format"
          "stdenv"
          "dependencies"
          "optional-dependencies"
          "build-system"
        ]
        // {
          name = (if providesModule then "${libPrefix}-" else "") + name;
          nativeBuildInputs = [ interpreter ] ++ attrs.nativeBuildInputs or [ ] ++ build-system;
          propagatedBuildInputs = attrs.propagatedBuildInputs or [ ] ++ dependencies ++ [ interpreter ];
          doInstallCheck = attrs.doCheck or true;
          pythonFormat = format';
          postFixup = "wrapPythonPrograms\n" + attrs.postFixup or "";
          passthru = {
            inherit dependencies build-system optional-dependencies;
            pyproject = pyproject;
            disabled = attrs.disabled or false;
          }
          // attrs.passthru or { };
          meta = {
            platforms = lib.platforms.linux;
          }
          // attrs.meta or { };
        }
      );
    in
    assert lib.assertMsg (builtins.isAttrs optional-dependencies)
      "${name}: `optional-dependencies` must be an attribute set";
    if providesModule then toPythonModule drv else drv;

  toPythonModule =
    drv:
    drv
    // {
      pythonModule = interpreter;
      passthru = drv.passthru or { } // {
        pythonModule = interpreter;
      };
    };

  base = self': {
    inherit lib pkgs stdenv;
    python = interpreter;
    pythonPackages = self';
    inherit toPythonModule;
    callPackage = lib.callPackageWith (pkgs // self');
    buildPythonPackage = makeOverridablePythonPackage (mkPythonDerivation {
      providesModule = true;
    });
    buildPythonApplication = makeOverridablePythonPackage (mkPythonDerivation {
      providesModule = false;
    });
    pythonAtLeast = lib.versionAtLeast pythonVersion;
    pythonOlder = lib.versionOlder pythonVersion;
    # python-aliases.nix: `fetchPypi = super.pkgs.fetchPypi; # added 2023-05-25`.
    inherit (pkgs) fetchPypi;
  };

  leaf =
    self': pname: version:
    self'.buildPythonPackage {
      inherit pname version;
      pyproject = true;
      src = pkgs.emptyDirectory;
      build-system = [ ];
      passthru = lib.optionalAttrs (pname == "sqlalchemy") {
        # pkgs/development/python-modules/sqlalchemy: `optional-dependencies.asyncio = [ greenlet ]`.
        optional-dependencies.asyncio = [ self'.greenlet ];
      };
    };

  packages = self': base self' // lib.mapAttrs (leaf self') available;

  pythonSet = lib.fix (lib.extends packageOverrides packages);
in
interpreter
// {
  inherit
    sitePackages
    libPrefix
    pythonVersion
    executable
    sourceVersion
    ;
  interpreter = "${interpreter}/bin/${executable}";
  pkgs = pythonSet;
  # with-packages.nix and wrapper.nix: buildEnv with the modules the list requires.
  withPackages =
    f:
    let
      modules = f pythonSet;
    in
    assert lib.assertMsg (builtins.isList modules && lib.all isDerivation modules)
      "python3.withPackages: the function must return a list of packages";
    assert lib.assertMsg (lib.all isPythonModule modules)
      "python3.withPackages: every package must be a Python module (buildPythonPackage or toPythonModule)";
    buildEnv {
      name = "${executable}-env";
      paths = modules ++ [ interpreter ];
      extraOutputsToInstall = [ "out" ];
    };
}
