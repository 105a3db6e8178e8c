# Stand-ins for the trivial builders.
#   nixpkgs: pkgs/build-support/trivial-builders/default.nix (runCommand, runCommandWith,
#   runCommandLocal, writeTextFile, writeText, writeTextDir, writeScript, writeShellScript,
#   writeShellApplication, symlinkJoin).
#
# The argument sets are the real ones: writeTextFile, writeShellApplication and
# runCommandWith take no argument they do not declare (they have no `...` in nixpkgs
# either), and they are built with lib.extendMkDerivation as in nixpkgs, so a misspelt
# argument fails with Nix's own "called with unexpected argument".
{
  lib,
  stdenv,
  stdenvNoCC,
  runtimeShell,
}:
rec {
  runCommandWith =
    let
      defaultStdenv = stdenv;
    in
    {
      stdenv ? defaultStdenv,
      name,
      derivationArgs ? { },
      runLocal ? false,
    }:
    buildCommand:
    assert lib.assertMsg (builtins.isAttrs derivationArgs)
      "runCommand ${name}: the derivation arguments must be an attribute set";
    stdenv.mkDerivation (
      {
        inherit buildCommand name;
        passAsFile = [ "buildCommand" ] ++ (derivationArgs.passAsFile or [ ]);
      }
      // lib.optionalAttrs runLocal {
        allowSubstitutes = false;
        preferLocalBuild = true;
      }
      // removeAttrs derivationArgs [ "passAsFile" ]
    );

  runCommand =
    name: env:
    runCommandWith {
      inherit name;
      derivationArgs = env;
      stdenv = stdenvNoCC;
    };

  runCommandLocal =
    name: env:
    runCommandWith {
      inherit name;
      derivationArgs = env;
      runLocal = true;
      stdenv = stdenvNoCC;
    };

  writeTextFile = lib.extendMkDerivation {
    constructDrv = stdenvNoCC.mkDerivation;
    excludeDrvArgNames = [ "derivationArgs" ];
    extendDrvArgs =
      finalAttrs:
      {
        name,
        text,
        allowSubstitutes ? false,
        checkPhase ? "",
        derivationArgs ? { },
        destination ? "",
        executable ? false,
        meta ? { },
        passthru ? { },
        pos ? null,
        preferLocalBuild ? true,
      }:
      assert lib.assertMsg (
        destination != "" -> (lib.hasPrefix "/" destination && destination != "/")
      ) "writeTextFile ${name}: destination must be an absolute path inside $out, got '${destination}'";
      {
        # Checked when the file is instantiated, as the builder would find out.
        text =
          if builtins.isString text then
            text
          else
            throw "writeTextFile ${name}: `text` must be a string, got a ${builtins.typeOf text}";
        inherit
          name
          executable
          checkPhase
          allowSubstitutes
          preferLocalBuild
          destination
          ;
        buildCommand = ''
          target=$out$destination
          mkdir -p "$(dirname "$target")"
          printf '%s' "$text" > "$target"
          if [ -n "$executable" ]; then chmod +x "$target"; fi
          eval "$checkPhase"
        '';
        passAsFile = [ "text" ] ++ derivationArgs.passAsFile or [ ];
        passthru = passthru // derivationArgs.passthru or { };
        meta =
          let
            program = builtins.match "/bin/([^/]+)" destination;
          in
          lib.optionalAttrs (executable && program != null) { mainProgram = builtins.head program; }
          // meta
          // derivationArgs.meta or { };
      }
      // removeAttrs derivationArgs [
        "passAsFile"
        "meta"
        "passthru"
      ];
    inheritFunctionArgs = false;
  };

  writeText =
    name: text:
    assert lib.assertMsg (builtins.isString text)
      "pkgs.writeText ${name}: the second argument should be a string, but it's a ${builtins.typeOf text}";
    writeTextFile { inherit name text; };

  writeTextDir =
    path: text:
    writeTextFile {
      inherit text;
      destination = "/${path}";
      name = baseNameOf path;
    };

  writeScript =
    name: text:
    writeTextFile {
      inherit name text;
      executable = true;
    };

  writeShellScript =
    name: text:
    writeTextFile {
      inherit name;
      executable = true;
      checkPhase = "${stdenv.shellDryRun} \"$target\"";
      text = ''
        #!${runtimeShell}
        ${text}
      '';
    };

  writeShellApplication =
    {
      name,
      text,
      bashOptions ? [
        "errexit"
        "nounset"
        "pipefail"
      ],
      checkPhase ? null,
      derivationArgs ? { },
      excludeShellChecks ? [ ],
      extraShellCheckFlags ? [ ],
      inheritPath ? true,
      meta ? { },
      passthru ? { },
      runtimeEnv ? null,
      runtimeInputs ? [ ],
    }:
    assert lib.assertMsg (builtins.isList runtimeInputs)
      "writeShellApplication ${name}: `runtimeInputs` must be a list";
    writeTextFile {
      inherit
        name
        meta
        passthru
        derivationArgs
        ;
      checkPhase = if checkPhase == null then "${stdenv.shellDryRun} \"$target\"" else checkPhase;
      destination = "/bin/${name}";
      executable = true;
      preferLocalBuild = false;
      allowSubstitutes = true;
      text = ''
        #!${runtimeShell}
        ${lib.concatMapStringsSep "\n" (option: "set -o ${option}") bashOptions}
        export PATH="${
          lib.concatStringsSep ":" (
            lib.optional (runtimeInputs != [ ]) (lib.makeBinPath runtimeInputs)
            ++ lib.optional inheritPath "$PATH"
          )
        }"

        ${text}
      '';
    };

  symlinkJoin = lib.extendMkDerivation {
    constructDrv = stdenvNoCC.mkDerivation;
    excludeDrvArgNames = [
      "postBuild"
      "stripPrefix"
      "paths"
      "failOnMissing"
    ];
    extendDrvArgs =
      finalAttrs:
      {
        paths,
        allowSubstitutes ? false,
        failOnMissing ? stripPrefix == "",
        name ? "${finalAttrs.pname}-${finalAttrs.version}",
        postBuild ? "",
        preferLocalBuild ? true,
        stripPrefix ? "",
        ...
      }:
      assert lib.assertMsg (builtins.isList paths) "symlinkJoin ${name}: `paths` must be a list";
      {
        inherit name allowSubstitutes preferLocalBuild;
        paths = map (path: "${path}${stripPrefix}") paths;
        passAsFile = [
          "buildCommand"
          "paths"
        ];
        buildCommand = ''
          mkdir -p $out
          ${postBuild}
        '';
      };
  };
}
