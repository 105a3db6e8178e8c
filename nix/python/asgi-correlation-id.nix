# Not in nixpkgs' Python package set (no asgi-correlation-id attribute; docs/nix-api-check.md
# says where that was read). The wheel app/requirements.lock pins, by its hash.
{
  buildPythonPackage,
  fetchPypi,
  starlette,
}:
buildPythonPackage rec {
  pname = "asgi-correlation-id";
  version = "5.0.1";
  format = "wheel";

  src = fetchPypi {
    pname = "asgi_correlation_id";
    inherit version format;
    dist = "py3";
    python = "py3";
    hash = "sha256-3+qXwfxB6OrcPlGKMRQny6bn552d22psfqiHnyQI2R0=";
  };

  # The wheel asks for starlette>=0.18 (sentry-sdk only for its optional "sentry" extra).
  dependencies = [ starlette ];

  pythonImportsCheck = [ "asgi_correlation_id" ];
}
