# Stand-ins for the plain packages the project names (attributes of
# pkgs/top-level/all-packages.nix or pkgs/by-name/), each checked to exist under that
# attribute in the nixpkgs file given beside it, with the outputs and meta.mainProgram it
# has there where the project depends on them (lib.getBin, lib.getExe). They are
# derivations that are never built.
{ lib, stdenv }:
let
  leaf =
    {
      pname,
      version ? "0",
      outputs ? [ "out" ],
      mainProgram ? null,
    }:
    stdenv.mkDerivation {
      inherit pname version outputs;
      meta = {
        platforms = lib.platforms.linux;
      }
      // lib.optionalAttrs (mainProgram != null) { inherit mainProgram; };
    };
in
{
  # pkgs/shells/bash/5.nix
  bash = leaf {
    pname = "bash";
    outputs = [ "out" "dev" "man" "doc" "info" ];
    mainProgram = "bash";
  };
  # pkgs/by-name/ca/cacert/package.nix
  cacert = leaf {
    pname = "nss-cacert";
    outputs = [ "out" "unbundled" ];
  };
  # pkgs/by-name/ce/certbot/package.nix
  certbot = leaf {
    pname = "certbot";
    mainProgram = "certbot";
  };
  # pkgs/tools/misc/coreutils/default.nix
  coreutils = leaf {
    pname = "coreutils";
    outputs = [ "out" "info" ];
  };
  # pkgs/by-name/cu/curlMinimal/package.nix (curl is curlMinimal with more features)
  curl = leaf {
    pname = "curl";
    outputs = [ "bin" "dev" "out" "man" "devdoc" ];
    mainProgram = "curl";
  };
  # pkgs/by-name/fa/fail2ban/package.nix
  fail2ban = leaf { pname = "fail2ban"; };
  # pkgs/tools/misc/findutils/default.nix
  findutils = leaf {
    pname = "findutils";
    outputs = [ "out" "info" "locate" ];
  };
  # pkgs/tools/text/gawk/default.nix
  gawk = leaf {
    pname = "gawk";
    outputs = [ "out" "info" "man" ];
    mainProgram = "gawk";
  };
  # pkgs/tools/text/gnugrep/default.nix
  gnugrep = leaf {
    pname = "gnugrep";
    outputs = [ "out" "info" ];
    mainProgram = "grep";
  };
  # pkgs/tools/text/gnused/default.nix
  gnused = leaf {
    pname = "gnused";
    outputs = [ "out" "info" ];
    mainProgram = "sed";
  };
  # pkgs/tools/compression/gzip/default.nix
  gzip = leaf {
    pname = "gzip";
    outputs = [ "out" "man" "info" ];
    mainProgram = "gzip";
  };
  # pkgs/by-name/ma/mailcap/package.nix
  mailcap = leaf { pname = "mailcap"; };
  # pkgs/servers/http/nginx/generic.nix
  nginx = leaf {
    pname = "nginx";
    outputs = [ "out" "doc" ];
    mainProgram = "nginx";
  };
  # pkgs/development/web/nodejs/v24.nix (nodejs, the default)
  nodejs = leaf {
    pname = "nodejs";
    outputs = [ "out" "libv8" "dev" ];
    mainProgram = "node";
  };
  # pkgs/tools/networking/openssh/common.nix
  openssh = leaf { pname = "openssh"; };
  # pkgs/development/libraries/openssl/default.nix
  openssl = leaf {
    pname = "openssl";
    outputs = [ "bin" "dev" "out" "man" "doc" ];
    mainProgram = "openssl";
  };
  # pkgs/by-name/pe/pebble/package.nix
  pebble = leaf {
    pname = "pebble";
    mainProgram = "pebble";
  };
  # pkgs/by-name/po/podman/package.nix
  podman = leaf {
    pname = "podman";
    outputs = [ "out" "man" ];
    mainProgram = "podman";
  };
  # pkgs/by-name/sh/shadow/package.nix
  shadow = leaf {
    pname = "shadow";
    outputs = [ "out" "su" "dev" "man" ];
  };
  # pkgs/development/libraries/sqlite/default.nix
  sqlite = leaf {
    pname = "sqlite";
    outputs = [ "bin" "dev" "man" "doc" "out" ];
    mainProgram = "sqlite3";
  };
  # pkgs/os-specific/linux/systemd/default.nix
  systemd = leaf {
    pname = "systemd";
    outputs = [ "out" "man" "dev" ];
    mainProgram = "systemctl";
  };
  # pkgs/by-name/ut/util-linux/package.nix
  util-linux = leaf {
    pname = "util-linux";
    outputs = [ "bin" "dev" "out" "lib" "man" "login" "swap" ];
  };
  # pkgs/tools/compression/zstd/default.nix
  zstd = leaf {
    pname = "zstd";
    outputs = [ "bin" "dev" "man" "out" ];
    mainProgram = "zstd";
  };
}
