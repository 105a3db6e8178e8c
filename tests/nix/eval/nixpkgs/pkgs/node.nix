# Stand-ins for buildNpmPackage and importNpmLock.
#   nixpkgs: pkgs/build-support/node/build-npm-package/default.nix (arguments; npmDeps and
#   npmConfigHook among them) and pkgs/build-support/node/import-npm-lock/default.nix
#   (importNpmLock's argument set without `...`, packageSourceOverrides, fetcherOpts, how
#   each lock entry is fetched and how package.json's dependencies are pointed at them).
#
# importNpmLock behaves as nixpkgs' does: an entry with an http(s) `resolved` is fetched by
# fetchurl with its `integrity`; an entry in packageSourceOverrides is taken from there; an
# entry with neither is left as it is, and every dependency named in package.json must end
# up with a `resolved`, or the evaluation stops at "attribute 'resolved' missing".
{
  lib,
  stdenv,
  fetchurl,
  nodejs,
  runCommand,
}:
let
  fetchModule =
    {
      fetcherOpts,
      module,
      npmRoot ? null,
    }:
    if module ? resolved && module.resolved != null then
      let
        parts = builtins.match "(.+)://(.+)" module.resolved;
        scheme = builtins.head parts;
      in
      if parts == null then
        assert npmRoot != null;
        { outPath = npmRoot + "/${module.resolved}"; }
      else if scheme == "http" || scheme == "https" then
        fetchurl (
          {
            url = module.resolved;
            hash = module.integrity;
          }
          // fetcherOpts
        )
      else if lib.hasPrefix "git" module.resolved then
        throw "stand-in importNpmLock: git dependencies are not stubbed (${module.resolved})"
      else
        throw "Unsupported URL scheme: ${scheme}"
    else
      null;

  npmConfigHook = runCommand "npm-config-hook" { } "exit 1";

  importNpmLock =
    {
      fetcherOpts ? { },
      npmRoot ? null,
      package ? lib.importJSON (npmRoot + "/package.json"),
      packageLock ? lib.importJSON (npmRoot + "/package-lock.json"),
      packageSourceOverrides ? { },
      pname ? package.name or "unknown",
      version ? package.version or "0.0.0",
    }:
    let
      lockedVersion = name: packageLock'.packages."node_modules/${name}".version;
      pinDependencies = lib.mapAttrs (
        name: version:
        if version == "latest" || builtins.match "github(.com)?:.+" version != null then
          lockedVersion name
        else
          version
      );
      packageLock' = packageLock // {
        packages = lib.mapAttrs (
          path: module:
          let
            src =
              packageSourceOverrides.${path} or (fetchModule {
                inherit module npmRoot;
                fetcherOpts = fetcherOpts.${path} or { };
              });
          in
          removeAttrs module [
            "link"
            "funding"
          ]
          // lib.optionalAttrs (src != null) { resolved = "file:${src}"; }
          // lib.optionalAttrs (module ? dependencies) {
            dependencies = pinDependencies module.dependencies;
          }
          // lib.optionalAttrs (module ? optionalDependencies) {
            optionalDependencies = pinDependencies module.optionalDependencies;
          }
        ) packageLock.packages;
      };
      resolvedOf = lib.mapAttrs (name: _: packageLock'.packages."node_modules/${name}".resolved);
      package' =
        package
        // lib.optionalAttrs (package ? dependencies) { dependencies = resolvedOf package.dependencies; }
        // lib.optionalAttrs (package ? devDependencies) {
          devDependencies = resolvedOf package.devDependencies;
        };
    in
    runCommand "${package.name or "unknown"}-${version}-sources" {
      inherit pname version;
      __structuredAttrs = true;
      package = builtins.toJSON package';
      packageLock = builtins.toJSON packageLock';
    } "exit 1";

  buildNpmPackage = lib.extendMkDerivation {
    constructDrv = stdenv.mkDerivation;
    extendDrvArgs =
      finalAttrs:
      {
        buildInputs ? [ ],
        forceEmptyCache ? false,
        forceGitDeps ? false,
        makeCacheWritable ? false,
        name ? "${args.pname}-${args.version}",
        nativeBuildInputs ? [ ],
        nodejs ? nodejsDefault,
        npmBuildFlags ? [ ],
        npmBuildHook ? null,
        npmBuildScript ? "build",
        npmConfigHook ? null,
        npmDeps ? throw "stand-in buildNpmPackage ${name}: npmDeps (fetchNpmDeps with npmDepsHash) is not stubbed",
        npmDepsFetcherVersion ? 1,
        npmDepsHash ? "",
        npmFlags ? [ ],
        npmInstallFlags ? [ ],
        npmInstallHook ? null,
        npmPackFlags ? [ ],
        npmPruneFlags ? npmInstallFlags,
        npmRebuildFlags ? [ ],
        npmWorkspace ? null,
        patchFlags ? [ ],
        patches ? [ ],
        postPatch ? "",
        prePatch ? "",
        sourceRoot ? null,
        src ? null,
        srcs ? null,
        ...
      }@args:
      assert lib.assertMsg (lib.isDerivation npmDeps) "buildNpmPackage ${name}: `npmDeps` must be a package";
      assert lib.assertMsg (
        npmConfigHook == null || lib.isDerivation npmConfigHook
      ) "buildNpmPackage ${name}: `npmConfigHook` must be a package (a setup hook)";
      {
        inherit npmDeps npmBuildScript;
        strictDeps = true;
        nativeBuildInputs =
          nativeBuildInputs
          ++ [ nodejs ]
          ++ lib.optional (npmConfigHook != null) npmConfigHook
          ++ lib.optional (npmBuildHook != null) npmBuildHook
          ++ lib.optional (npmInstallHook != null) npmInstallHook;
        buildInputs = buildInputs ++ [ nodejs ];
        env = (args.env or { }) // {
          NIX_NPM_FETCHER_VERSION = toString npmDepsFetcherVersion;
        };
        dontStrip = args.dontStrip or true;
        meta = (args.meta or { }) // {
          platforms = args.meta.platforms or nodejs.meta.platforms;
        };
      };
  };

  nodejsDefault = nodejs;
in
{
  inherit buildNpmPackage;
  # import-npm-lock/default.nix: `__functor = self: self.importNpmLock`, with the hooks.
  importNpmLock = {
    inherit importNpmLock npmConfigHook;
    __functor = self: self.importNpmLock;
  };
}
