# Stand-ins for fetchurl and fetchPypi.
#   nixpkgs: pkgs/build-support/fetchurl/default.nix (argument set, one hash only, mirror://
#   sites from pkgs/build-support/fetchurl/mirrors.nix) and
#   pkgs/build-support/fetchpypi/default.nix (sdist and wheel arguments).
#
# The results are real fixed-output derivations with the given hash, so a malformed hash
# fails as in nixpkgs. The download addresses themselves are left out: committed files
# do not name a package registry's host, and nothing here is fetched.
{ lib, stdenvNoCC }:
let
  # The mirror:// sites pkgs/build-support/fetchurl/mirrors.nix defines (their names only).
  # There is none for npm.
  mirrorSites = [
    "alsa"
    "apache"
    "bioc"
    "bitlbee"
    "centos"
    "cpan"
    "cran"
    "debian"
    "dub"
    "fedora"
    "gcc"
    "gentoo"
    "gnome"
    "gnu"
    "gnupg"
    "hackage"
    "ibiblioPubLinux"
    "imagemagick"
    "kde"
    "kernel"
    "luarocks"
    "maven"
    "mozilla"
    "mysql"
    "openbsd"
    "opensuse"
    "osdn"
    "postgresql"
    "pypi"
    "qt"
    "sageupstream"
    "samba"
    "savannah"
    "sourceforge"
    "steamrt"
    "tcsh"
    "testpypi"
    "ubuntu"
    "xfce"
    "xorg"
  ];

  checkUrl =
    url:
    let
      mirror = builtins.match "mirror://([[:alpha:]]+)/(.+)" url;
    in
    if mirror == null || lib.elem (builtins.head mirror) mirrorSites then
      url
    else
      throw "unknown mirror:// site ${builtins.head mirror}";

  fetchurl = lib.extendMkDerivation {
    constructDrv = stdenvNoCC.mkDerivation;
    excludeDrvArgNames = [
      "url"
      "derivationArgs"
      "sha1"
      "sha256"
      "sha512"
    ];
    extendDrvArgs =
      finalAttrs:
      {
        curlOpts ? "",
        curlOptsList ? [ ],
        derivationArgs ? { },
        downloadToTemp ? false,
        executable ? false,
        hash ? "",
        meta ? { },
        name ? null,
        nativeBuildInputs ? [ ],
        netrcImpureEnvVars ? [ ],
        netrcPhase ? null,
        outputHash ? "",
        outputHashAlgo ? "",
        passthru ? { },
        pname ? null,
        postFetch ? "",
        preferLocalBuild ? true,
        recursiveHash ? false,
        sha1 ? "",
        sha256 ? "",
        sha512 ? "",
        showURLs ? false,
        url ? "",
        urls ? [ ],
        version ? null,
      }@args:
      let
        urls' =
          if urls != [ ] && url == "" then
            (if builtins.isList urls then urls else throw "`urls` is not a list")
          else if urls == [ ] && url != "" then
            (if builtins.isString url then [ url ] else throw "`url` is not a string")
          else
            throw "fetchurl requires either `url` or `urls` to be set";
        hashes = lib.filter (s: s != "") [
          hash
          outputHash
          sha1
          sha256
          sha512
        ];
        given =
          if builtins.length hashes > 1 then
            throw "multiple hashes passed to fetchurl: ${toString urls'}"
          else if hash != "" then
            {
              outputHash = hash;
              outputHashAlgo = null;
            }
          else if outputHash != "" then
            {
              inherit outputHash outputHashAlgo;
            }
          else if sha512 != "" then
            {
              outputHash = sha512;
              outputHashAlgo = "sha512";
            }
          else if sha256 != "" then
            {
              outputHash = sha256;
              outputHashAlgo = "sha256";
            }
          else if sha1 != "" then
            {
              outputHash = sha1;
              outputHashAlgo = "sha1";
            }
          else
            throw "fetchurl requires a hash for fixed-output derivation: ${toString urls'}";
      in
      derivationArgs
      // given
      // {
        inherit meta preferLocalBuild;
        urls = map checkUrl urls';
        name =
          if pname != null && version != null then
            "${pname}-${version}"
          else if name != null then
            name
          else
            baseNameOf (toString (builtins.head urls'));
        outputHashMode = if recursiveHash || executable then "recursive" else "flat";
        passthru = {
          inherit url;
        }
        // passthru;
      };
    inheritFunctionArgs = false;
  };

  fetchPypi =
    let
      wheelName =
        {
          pname,
          version,
          abi ? "none",
          dist ? "py2.py3",
          platform ? "any",
          python ? "py2.py3",
        }:
        "${dist}/${pname}-${version}-${python}-${abi}-${platform}.whl";
      sdistUrl =
        {
          pname,
          version,
          extension ? "tar.gz",
        }:
        "mirror://pypi/${builtins.substring 0 1 pname}/${pname}/${pname}-${version}.${extension}";
      urlOf =
        {
          format ? "setuptools",
          ...
        }@attrs:
        let
          rest = removeAttrs attrs [ "format" ];
        in
        if format == "wheel" then
          # nixpkgs downloads wheels from the registry's file host, which is left out here.
          "pypi-wheel:${wheelName rest}"
        else if format == "setuptools" then
          sdistUrl rest
        else
          throw "Unsupported format ${format}";
    in
    lib.makeOverridable (
      {
        pname,
        version,
        format ? "setuptools",
        hash ? "",
        sha256 ? "",
        ...
      }@attrs:
      fetchurl {
        url = urlOf (
          removeAttrs attrs [
            "sha256"
            "hash"
          ]
        );
        inherit sha256 hash;
      }
    );
in
{
  inherit fetchurl fetchPypi;
}
