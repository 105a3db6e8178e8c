# The two production images, minimal and reproducible, described by images/spec.json: names,
# tags, user, ports, volumes, entry points, environment, health commands and stop signals all
# come from nix/spec.nix, which reads that file, so these images, the host test's images and
# the Quadlet units cannot drift apart (tests/nix/test_agreement.py checks it).
#
# `nix build .#images` gives one result holding both image streams and bin/load, which streams
# each into `podman load` and tags it :current, the tag the Quadlet units run.
{
  lib,
  buildEnv,
  curl,
  dockerTools,
  mailcap,
  nginx,
  runCommand,
  sqlite,
  writeShellApplication,
  experts-panel,
  frontend,
}:
let
  derived = import ./spec.nix { };
  inherit (derived) user;

  # The image's own passwd and group: root and nobody (which nginx and curl look up) and the
  # user both images run as. No shell is named, none is installed.
  nss = dockerTools.fakeNss.override {
    extraPasswdLines = [
      "${user.name}:x:${toString user.uid}:${toString user.gid}:Experts Panel:${user.home}:/sbin/nologin"
    ];
    extraGroupLines = [ "${user.name}:x:${toString user.gid}:" ];
  };

  # The service's command without its bash wrapper: buildPythonApplication wraps each script in a
  # bash script that only prepends PATH, while the Python script itself already carries its
  # sys.path. Renaming the script over the wrapper keeps bash out of the image. `-s` keeps a
  # user site-packages in the data volume (HOME) from ever being imported.
  service = experts-panel.overridePythonAttrs (old: {
    postFixup = (old.postFixup or "") + ''
      mv -f $out/bin/.experts-panel-wrapped $out/bin/experts-panel
      sed -i '1s|^\(#!.*python[0-9.]*\)$|\1 -s|' $out/bin/experts-panel
      head -n 1 $out/bin/experts-panel | grep -q -- ' -s$'
    '';
  });

  # Writable mount points owned by the image's user: Podman copies a fresh named volume's
  # ownership from the image, so the user can write to data, backups, certs and acme.
  mountPoints =
    image:
    lib.concatMapStrings (path: ''
      mkdir -p .${path}
      chown ${derived.owner} .${path}
    '') image.volumePaths;

  mkImage =
    key:
    {
      contents,
      extraCommands ? "",
    }:
    let
      image = derived.images.${key};
    in
    dockerTools.streamLayeredImage {
      inherit (image) name tag config;
      inherit contents;
      # The creation date stays the default (1970-01-01T00:00:01Z): "now" would make every build
      # a different image.
      fakeRootCommands = ''
        mkdir -p .${user.home} tmp
        chmod 1777 tmp
        chown ${derived.owner} .${user.home}
        ${mountPoints image}
        ${extraCommands}
      '';
    };

  api = mkImage "api" {
    contents = [
      nss
      dockerTools.caCertificates
      # /bin/experts-panel (the entry point and the health command) and /bin/sqlite3 (an online
      # `.backup` from inside the container when the host has no sqlite3); nothing else on /bin.
      (buildEnv {
        name = "experts-panel-api-bin";
        paths = [
          service
          (lib.getBin sqlite)
        ];
        pathsToLink = [ "/bin" ];
      })
    ];
  };

  web = mkImage "web" {
    contents = [
      nss
      (buildEnv {
        name = "experts-panel-web-bin";
        paths = [
          nginx
          (lib.getBin curl)
        ];
        pathsToLink = [ "/bin" ];
      })
      # The built front end and the configuration in nginx/, where nginx.conf expects them.
      (runCommand "experts-panel-web-files" { } ''
        mkdir -p $out/etc $out/srv
        cp -r ${frontend} $out/srv/experts-panel
        cp -r ${../nginx} $out/etc/nginx
        chmod -R u+w $out/etc/nginx
        # nginx.conf may include mime.types without shipping one: take the table NixOS's own
        # nginx module uses.
        if [ ! -e $out/etc/nginx/mime.types ]; then
          cp ${mailcap}/etc/nginx/mime.types $out/etc/nginx/mime.types
        fi
      '')
    ];
    # nginx writes its logs and temporary files under these unless nginx.conf says otherwise.
    extraCommands = ''
      mkdir -p var/log/nginx var/cache/nginx
      chown ${derived.owner} var/log/nginx var/cache/nginx
    '';
  };

  streams = { inherit api web; };

  # The host's own podman, not one from the Nix store: the images must land in the storage the
  # operator's podman (and the user's Quadlet units) use.
  load = writeShellApplication {
    name = "experts-panel-load-images";
    text = ''
      # Streams each image into `podman load`, as the user that runs the stack, and points the
      # stable tag the Quadlet units use at it; `podman auto-update` then moves the stack onto
      # the new image and rolls back if it does not become healthy.
      if ! command -v podman >/dev/null; then
        echo "experts-panel-load-images: podman is not on PATH" >&2
        exit 1
      fi
      ${lib.concatMapStrings (
        key:
        let
          image = derived.images.${key};
        in
        ''
          echo "loading ${image.name}:${image.tag}" >&2
          ${streams.${key}} | podman load
        ''
        + lib.optionalString (image.tag != "current") ''
          podman tag ${image.name}:${image.tag} ${image.name}:current
        ''
      ) (builtins.attrNames derived.images)}
    '';
  };
in
runCommand "experts-panel-images"
  {
    passthru = {
      inherit
        api
        web
        load
        service
        ;
    };
  }
  ''
    mkdir -p $out/bin
    ln -s ${api} $out/api
    ln -s ${web} $out/web
    ln -s ${lib.getExe load} $out/bin/load
  ''
