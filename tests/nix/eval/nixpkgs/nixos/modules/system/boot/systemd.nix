# Stand-in of nixos/modules/system/boot/systemd.nix (systemd.package, systemd.services,
# systemd.targets) with the unit options of nixos/lib/systemd-unit-options.nix this project
# sets, typed as there: unit names must be unit names, `description` one line, `path`
# packages or strings, `script` lines, `serviceConfig` systemd values. Each service is
# written out as a unit file and its script as a shell script, as NixOS does.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;

  unitNameType = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";

  # systemd-unit-options.nix's unitOption: a value systemd can take, or a list of them.
  unitOption = types.mkOptionType {
    name = "systemd option";
    check =
      v:
      let
        scalar = x: lib.isBool x || lib.isInt x || lib.isString x || builtins.isPath x || lib.isDerivation x;
      in
      scalar v || (lib.isList v && lib.all scalar v);
    merge = loc: defs: lib.mergeEqualOption loc defs;
  };

  commonUnitOptions = {
    enable = mkOption {
      default = true;
      type = types.bool;
    };
    description = mkOption {
      default = "";
      type = types.singleLineStr;
    };
    requires = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    wants = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    after = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    before = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    wantedBy = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    requiredBy = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    partOf = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    bindsTo = mkOption {
      default = [ ];
      type = types.listOf unitNameType;
    };
    restartTriggers = mkOption {
      default = [ ];
      type = types.listOf types.unspecified;
    };
    unitConfig = mkOption {
      default = { };
      type = types.attrsOf unitOption;
    };
  };

  serviceOptions = commonUnitOptions // {
    path = mkOption {
      default = [ ];
      type = types.listOf (types.oneOf [ types.package types.str ]);
    };
    environment = mkOption {
      default = { };
      type = types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]));
    };
    serviceConfig = mkOption {
      default = { };
      type = types.attrsOf unitOption;
    };
    script = mkOption {
      default = "";
      type = types.lines;
    };
    preStart = mkOption {
      default = "";
      type = types.lines;
    };
  };

  renderValue = v: if lib.isList v then lib.concatMapStringsSep " " toString v else toString v;
  section = name: attrs: "[${name}]\n" + lib.concatStrings (lib.mapAttrsToList (k: v: "${k}=${renderValue v}\n") attrs);

  unitSection =
    unit:
    {
      Description = unit.description;
      Wants = unit.wants;
      After = unit.after;
      Before = unit.before;
      Requires = unit.requires;
      PartOf = unit.partOf;
      BindsTo = unit.bindsTo;
      X-Restart-Triggers = map (t: "${t}") unit.restartTriggers;
    }
    // unit.unitConfig;
  installSection = unit: {
    WantedBy = unit.wantedBy;
    RequiredBy = unit.requiredBy;
  };

  serviceUnit =
    name: svc:
    let
      start = pkgs.writeShellScript "${name}-start" svc.script;
      pre = pkgs.writeShellScript "${name}-pre-start" svc.preStart;
      execStart =
        lib.optionalAttrs (svc.script != "") { ExecStart = "${start}"; }
        // lib.optionalAttrs (svc.preStart != "") { ExecStartPre = "${pre}"; };
      path = lib.makeBinPath svc.path;
    in
    pkgs.writeText "${name}.service" (
      section "Unit" (unitSection svc)
      + section "Service" (
        { Environment = [ "PATH=${path}" ] ++ lib.mapAttrsToList (k: v: "${k}=${toString v}") (lib.filterAttrs (_: v: v != null) svc.environment); }
        // execStart
        // svc.serviceConfig
      )
      + section "Install" (installSection svc)
    );
in
{
  options.systemd = {
    package = mkOption {
      type = types.package;
      default = pkgs.systemd;
    };
    services = mkOption {
      default = { };
      type = types.attrsOf (types.submodule { options = serviceOptions; });
    };
    targets = mkOption {
      default = { };
      type = types.attrsOf (types.submodule { options = commonUnitOptions; });
    };
    units = mkOption {
      internal = true;
      type = types.attrsOf types.package;
    };
  };

  config = {
    # systemd.nix's warnings about services, as there.
    warnings =
      let
        netOnline =
          kind: name: def:
          lib.optional (
            lib.elem "network-online.target" def.after
            && !(lib.elem "network-online.target" (def.wants ++ def.requires ++ def.bindsTo))
          ) "${name}.${kind} is ordered after 'network-online.target' but doesn't depend on it";
      in
      lib.concatLists (
        lib.mapAttrsToList (
          name: service:
          let
            type = service.serviceConfig.Type or "";
            restart = service.serviceConfig.Restart or "no";
          in
          lib.optional (type == "oneshot" && (restart == "always" || restart == "on-success"))
            "Service '${name}.service' with 'Type=oneshot' cannot have 'Restart=always' or 'Restart=on-success'"
          ++ lib.optional (service.serviceConfig ? StartLimitInterval)
            "Service '${name}.service' uses the deprecated StartLimitInterval; use startLimitIntervalSec"
          ++ netOnline "service" name service
        ) config.systemd.services
      )
      ++ lib.concatLists (lib.mapAttrsToList (netOnline "target") config.systemd.targets);

    systemd.units =
      lib.mapAttrs' (name: svc: lib.nameValuePair "${name}.service" (serviceUnit name svc)) (
        lib.filterAttrs (_: svc: svc.enable) config.systemd.services
      )
      // lib.mapAttrs' (
        name: target:
        lib.nameValuePair "${name}.target" (
          pkgs.writeText "${name}.target" (section "Unit" (unitSection target) + section "Install" (installSection target))
        )
      ) config.systemd.targets;
    environment.systemPackages = [ config.systemd.package ];
  };
}
