# The image configuration derived from images/spec.json, with nothing but builtins, so it can be
# evaluated without nixpkgs (tests/nix/run does: nix-instantiate --eval --strict --json) and so
# the Nix images cannot disagree with the description the host test's images and the Quadlet
# units are checked against.
#
#   import ./spec.nix { }            -> { spec, user, images.<api|web>.{ name, tag, config, ... } }
#   import ./spec.nix { specFile = ./other.json; }   (the agreement test feeds it altered copies)
{
  specFile ? ../images/spec.json,
}:
let
  spec = builtins.fromJSON (builtins.readFile specFile);

  # Docker's image config counts health-check durations in nanoseconds (Go's time.Duration);
  # spec.json writes them as Quadlet does ("30s", "2m").
  units = {
    s = 1;
    m = 60;
    h = 3600;
  };
  toNanoseconds =
    what: text:
    let
      parts = builtins.match "([0-9]+)([smh])" text;
    in
    if parts == null then
      throw "images/spec.json: ${what} is \"${text}\"; expected a whole number of s, m or h such as \"30s\""
    else
      builtins.fromJSON (builtins.elemAt parts 0) * units.${builtins.elemAt parts 1} * 1000000000;

  required =
    where: attrs: names:
    builtins.foldl' (
      ok: name:
      if attrs ? ${name} then ok else throw "images/spec.json: ${where} has no \"${name}\""
    ) true names;

  user = spec.user;
  owner = "${toString user.uid}:${toString user.gid}";

  imageConfig =
    key: image:
    assert required "images.${key}" image [
      "name"
      "tag"
      "entrypoint"
      "ports"
      "volumes"
      "env"
      "health"
      "stop_signal"
    ];
    {
      inherit (image) name tag;
      # Where each named volume is mounted: the image declares the paths, the pod names them.
      volumePaths = builtins.attrValues image.volumes;
      config = {
        Entrypoint = image.entrypoint;
        Env = builtins.attrValues (builtins.mapAttrs (name: value: "${name}=${value}") image.env);
        ExposedPorts = builtins.listToAttrs (
          map (port: {
            name = "${toString port}/tcp";
            value = { };
          }) image.ports
        );
        Volumes = builtins.listToAttrs (
          map (path: {
            name = path;
            value = { };
          }) (builtins.attrValues image.volumes)
        );
        # Exec form ("CMD", not "CMD-SHELL"): neither image needs a shell to run it.
        Healthcheck = {
          Test = [ "CMD" ] ++ image.health.cmd;
          Interval = toNanoseconds "images.${key}.health.interval" image.health.interval;
          Timeout = toNanoseconds "images.${key}.health.timeout" image.health.timeout;
          StartPeriod = toNanoseconds "images.${key}.health.start_period" image.health.start_period;
          Retries = image.health.retries;
        };
        StopSignal = image.stop_signal;
        User = owner;
        WorkingDir = user.home;
      };
    };
in
assert required "the top level" spec [
  "user"
  "pod"
  "volumes"
  "images"
];
assert required "user" user [
  "name"
  "uid"
  "gid"
  "home"
];
{
  inherit spec user owner;
  images = builtins.mapAttrs imageConfig spec.images;
  # "localhost/experts-panel-api:current", as Quadlet's Image= and `podman load` name it.
  references = builtins.mapAttrs (_: image: "${image.name}:${image.tag}") spec.images;
}
