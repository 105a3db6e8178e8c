# The web front end, built as `npm ci && npm run build` does, into the files nginx serves.
# importNpmLock fetches each package by the integrity hash in frontend/package-lock.json, so the
# lock file alone pins the dependencies: no npmDepsHash to update by hand.
{
  lib,
  buildNpmPackage,
  importNpmLock,
}:
let
  package = lib.importJSON ../frontend/package.json;
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

  npmDeps = importNpmLock { npmRoot = ../frontend; };
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
