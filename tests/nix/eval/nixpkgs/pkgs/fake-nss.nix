# Stand-in for fakeNss (called with callPackage, so `.override` takes exactly these
# arguments, as the real one does).
#   nixpkgs: pkgs/by-name/fa/fakeNss/package.nix
{
  lib,
  runCommand,
  symlinkJoin,
  writeTextDir,
  extraGroupLines ? [ ],
  extraPasswdLines ? [ ],
}:
assert lib.assertMsg (
  builtins.isList extraPasswdLines && lib.all builtins.isString extraPasswdLines
) "fakeNss: extraPasswdLines must be a list of strings";
assert lib.assertMsg (
  builtins.isList extraGroupLines && lib.all builtins.isString extraGroupLines
) "fakeNss: extraGroupLines must be a list of strings";
symlinkJoin {
  name = "fake-nss";
  paths = [
    (writeTextDir "etc/passwd" ''
      root:x:0:0:root user:/var/empty:/bin/sh
      ${lib.concatStrings (map (line: line + "\n") extraPasswdLines)}nobody:x:65534:65534:nobody:/var/empty:/bin/sh
    '')
    (writeTextDir "etc/group" ''
      root:x:0:
      ${lib.concatStrings (map (line: line + "\n") extraGroupLines)}nobody:x:65534:
    '')
    (writeTextDir "etc/nsswitch.conf" ''
      hosts: files dns
    '')
    (runCommand "var-empty" { } ''
      mkdir -p $out/var/empty
    '')
  ];
}
