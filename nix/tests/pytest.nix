# The service's own test suite (tests/app) against the Nix-built package and nixpkgs' versions of
# its dependencies, in the build sandbox: real SQLite files and real HTTP servers on loopback,
# which the sandbox allows; nothing reaches beyond it.
{
  lib,
  runCommand,
  python3,
  experts-panel,
}:
let
  env = python3.withPackages (ps: [
    (ps.toPythonModule experts-panel)
    ps.pytest
    ps.pytest-asyncio
    ps.psutil
    ps.hypothesis
  ]);
  root = ../..;
in
runCommand "experts-panel-pytest"
  {
    nativeBuildInputs = [ env ];
    # The suite reads the README, docs/ and .env.example (they must document every setting).
    src = lib.fileset.toSource {
      inherit root;
      fileset = lib.fileset.unions [
        (root + "/pytest.ini")
        (root + "/README.md")
        (root + "/.env.example")
        (root + "/docs")
        (root + "/app")
        (root + "/tests/__init__.py")
        (root + "/tests/app")
        (root + "/tests/support")
      ];
    };
  }
  ''
    cp -r $src source
    chmod -R u+w source
    cd source
    export HOME=$TMPDIR
    # schemathesis is not in every nixpkgs near the pin; CI runs that test against
    # app/requirements-test.lock's.
    python -m pytest -p no:cacheprovider tests/app \
      --deselect tests/app/test_schema_fuzz.py
    touch $out
  ''
