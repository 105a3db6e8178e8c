# nix/tests/host.nix's testScript, evaluated without nixpkgs: the Python that
# `pkgs.testers.runNixOSTest` would hand the driver, with stand-ins for the few values it reads
# from nixpkgs and from the nodes' configurations (tests/nix/test_host_script.py passes them).
# Each file the script refers to through pkgs.writeText is traced as JSON (name, text, path),
# so the test can check those files too.
{
  caDomain, # nodes.acme.test-support.acme.caDomain (nixos/tests/common/acme/server)
  home, # nodes.server.services.experts-panel.home
  service, # the store path of nodes.server.services.experts-panel.images.service
  sitePackages, # pkgs.python3.sitePackages
}:
let
  storePath =
    name: "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";
  pkgs = {
    writeText =
      name: text:
      let
        path = storePath name;
      in
      builtins.trace (builtins.toJSON { inherit name text path; }) { outPath = path; };
    python3 = { inherit sitePackages; };
  };
  test = import ../../nix/tests/host.nix { module = { }; acmeServer = { }; } {
    lib = throw "host.nix's testScript reads nothing of lib";
    inherit pkgs;
  };
in
test.testScript {
  nodes = {
    acme.test-support.acme.caDomain = caDomain;
    server.services.experts-panel = {
      inherit home;
      images = { inherit service; };
    };
  };
}
