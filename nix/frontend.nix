# The web front end, built as `npm ci && npm run build` does, into the files nginx serves.
#
# frontend/package-lock.json records, for each package from npm's default registry, a name,
# a version and an integrity hash, but no `resolved` URL (and no committed file names a
# registry's host), while importNpmLock fetches what a lock entry's `resolved` points at.
# So each locked package is fetched here by npm itself, `npm pack NAME@VERSION` from npm's
# own default registry, as a fixed-output derivation whose hash is that entry's integrity:
# the lock alone pins every dependency, there is no second hash to keep up to date, and a
# tarball that is not the locked one fails the build. importNpmLock's
# packageSourceOverrides hands these tarballs to npm in place of downloads.
{
  lib,
  buildNpmPackage,
  cacert,
  importNpmLock,
  nodejs,
  runCommand,
}:
let
  package = lib.importJSON ../frontend/package.json;
  lock = lib.importJSON ../frontend/package-lock.json;

  # A lock entry's package name: its own `name` (an alias), else the path after the last
  # node_modules/ (scoped names keep their scope).
  nameOf = path: entry: entry.name or (lib.last (lib.splitString "node_modules/" path));

  fetchLocked =
    path: entry:
    let
      name = nameOf path entry;
    in
    if !(entry ? integrity && entry ? version) then
      throw "frontend/package-lock.json: ${path} has no version and integrity to fetch it by"
    else
      runCommand "${lib.last (lib.splitString "/" name)}-${entry.version}.tgz" {
        nativeBuildInputs = [ nodejs ];
        outputHash = entry.integrity;
        outputHashMode = "flat";
        spec = "${name}@${entry.version}";
        SSL_CERT_FILE = "${cacert}/etc/ssl/certs/ca-bundle.crt";
        # A proxy, or npm_config_registry for a mirror of the default registry, from the
        # environment of the Nix daemon.
        impureEnvVars = lib.fetchers.proxyImpureEnvVars ++ [ "npm_config_registry" ];
      } ''
        export HOME=$TMPDIR
        npm pack --silent --ignore-scripts --cache "$TMPDIR/cache" --pack-destination "$TMPDIR" "$spec"
        mv "$TMPDIR"/*.tgz "$out"
      '';

  # Every package of the lock that npm would download: not the project itself (""), not
  # links to local directories, not entries that carry their own `resolved`.
  registryPackages = lib.filterAttrs (
    path: entry: path != "" && !(entry.link or false) && !(entry ? resolved)
  ) lock.packages;
in
buildNpmPackage {
  pname = package.name;
  inherit (package) version;

  # A checkout's node_modules and dist (both git-ignored) never reach the build.
  src = lib.fileset.toSource {
    root = ../frontend;
    fileset = lib.fileset.difference ../frontend (
      lib.fileset.unions [
        (lib.fileset.maybeMissing ../frontend/node_modules)
        (lib.fileset.maybeMissing ../frontend/dist)
      ]
    );
  };

  npmDeps = importNpmLock {
    npmRoot = ../frontend;
    packageSourceOverrides = lib.mapAttrs fetchLocked registryPackages;
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  # `npm run build` (tsc, then vite build) writes dist/; the result is that folder, nothing else.
  installPhase = ''
    runHook preInstall
    cp -r dist $out
    runHook postInstall
  '';

  meta = {
    inherit (package) description;
    license = lib.licenses.mit;
  };
}
