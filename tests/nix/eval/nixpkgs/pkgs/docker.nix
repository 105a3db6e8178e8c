# Stand-in for dockerTools (the parts this project uses).
#   nixpkgs: pkgs/build-support/docker/default.nix (streamLayeredImage's argument set,
#   caCertificates, `fakeNss` re-exported from the top level).
#
# streamLayeredImage takes exactly the arguments nixpkgs declares, without `...`, through
# lib.makeOverridable as there; the image configuration is written to the store as JSON,
# so a value JSON cannot hold (a function, a path that cannot be copied) fails here too.
{
  lib,
  stdenv,
  cacert,
  fakeNss,
  runCommand,
  symlinkJoin,
  writeText,
}:
{
  inherit fakeNss;

  caCertificates = runCommand "ca-certificates" { } ''
    mkdir -p $out/etc/ssl/certs $out/etc/pki/tls/certs
    ln -s ${cacert}/etc/ssl/certs/ca-bundle.crt $out/etc/ssl/certs/ca-bundle.crt
    ln -s ${cacert}/etc/ssl/certs/ca-bundle.crt $out/etc/ssl/certs/ca-certificates.crt
    ln -s ${cacert}/etc/ssl/certs/ca-bundle.crt $out/etc/pki/tls/certs/ca-bundle.crt
  '';

  streamLayeredImage = lib.makeOverridable (
    {
      name,
      # docker/default.nix: go.GOARCH of the host platform.
      architecture ? stdenv.hostPlatform.go.GOARCH,
      config ? { },
      contents ? [ ],
      created ? "1970-01-01T00:00:01Z",
      debug ? false,
      enableFakechroot ? false,
      extraCommands ? "",
      fakeRootCommands ? "",
      fromImage ? null,
      gid ? 0,
      gname ? "root",
      includeNixDB ? false,
      includeStorePaths ? true,
      layeringPipeline ? null,
      maxLayers ? 100,
      meta ? { },
      mtime ? "1970-01-01T00:00:01Z",
      passthru ? { },
      tag ? null,
      uid ? 0,
      uname ? "root",
    }:
    assert lib.assertMsg (builtins.isAttrs config)
      "streamLayeredImage ${name}: `config` must be an attribute set";
    assert lib.assertMsg (builtins.isString fakeRootCommands && builtins.isString extraCommands)
      "streamLayeredImage ${name}: `fakeRootCommands` and `extraCommands` must be strings";
    assert lib.assertMsg (
      layeringPipeline == null -> maxLayers > 1
    ) "the maxLayers argument of dockerTools.buildLayeredImage function must be greather than 1";
    let
      baseName = baseNameOf name;
      contentsList = if builtins.isList contents then contents else [ contents ];
      baseJson = writeText "${baseName}-base.json" (
        builtins.toJSON {
          inherit config architecture;
          os = "linux";
        }
      );
      customisationLayer = symlinkJoin {
        name = "${baseName}-customisation-layer";
        paths = contentsList;
        inherit extraCommands fakeRootCommands;
      };
      conf = runCommand "${baseName}-conf.json" {
        inherit
          created
          mtime
          uid
          gid
          uname
          gname
          customisationLayer
          baseJson
          ;
        fromImage = if fromImage == null then "" else fromImage;
        imageName = lib.toLower name;
        imageTag = if tag == null then "" else tag;
      } "cp $baseJson $out";
    in
    runCommand "stream-${baseName}" {
      inherit conf meta;
      imageName = lib.toLower name;
      passthru = passthru // {
        imageTag = tag;
        inherit conf;
        isExe = true;
      };
    } "exit 1"
  );
}
