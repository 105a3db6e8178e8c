# A whole host, as nixpkgs tests one: a NixOS server with services.experts-panel, an ACME server
# (Pebble, nixpkgs' own test module) and a client. It checks what tests/host checks on Debian:
# a healthy start, HTTPS with a certificate certbot got from Pebble, the HTTP redirect, an SSE
# query streamed through nginx event by event, backup and restore, renewal without a failed
# request, a restart after a kill, the data kept across a reboot, and no process of the stack
# running as root. Run with `nix flake check` (or `nix build .#checks.x86_64-linux.host`).
{
  module,
  # nixpkgs' nixos/tests/common/acme/server: Pebble on acme.test with a test CA.
  acmeServer,
}:
{ lib, pkgs, ... }:
let
  domain = "panel.test";
  user = "panel";
  uid = 10001;

  # Streams one query and prints, per `data:` line, when it arrived and its event type, so the
  # test can tell a stream that arrives event by event from one nginx buffered to the end.
  sseProbe = pkgs.writeText "sse-probe.py" ''
    import json, ssl, sys, time, urllib.request

    ctx = ssl.create_default_context(cafile=sys.argv[2])
    request = urllib.request.Request(
        sys.argv[1],
        data=json.dumps({"query": "How do I keep backups of a small server?"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
    )
    start = time.monotonic()
    events = []
    with urllib.request.urlopen(request, context=ctx, timeout=300) as response:
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("data:"):
                event = json.loads(line[5:])
                events.append([time.monotonic() - start, event["event_type"]])
    print(json.dumps(events))
  '';

  # Requests /health over HTTPS until /tmp/stop exists; prints how many succeeded and failed.
  loadProbe = pkgs.writeText "load-probe.py" ''
    import json, os, ssl, sys, time, urllib.request

    ctx = ssl.create_default_context(cafile=sys.argv[2])
    ok = failed = 0
    while not os.path.exists("/tmp/stop"):
        try:
            with urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10) as response:
                ok += response.status == 200
                failed += response.status != 200
        except Exception as exc:
            failed += 1
            print(f"failed: {exc}", file=sys.stderr)
        time.sleep(0.05)
    print(json.dumps({"ok": ok, "failed": failed}))
  '';
in
{
  name = "experts-panel-host";

  nodes = {
    # The fake ACME server the server's certbot asks for its certificate.
    acme =
      { nodes, ... }:
      {
        imports = [ acmeServer ];
        # Pebble checks the HTTP-01 challenge at the name it issues for.
        networking.hosts.${nodes.server.networking.primaryIPAddress} = [ domain ];
      };

    server =
      { nodes, ... }:
      {
        imports = [ module ];
        virtualisation = {
          memorySize = 3072;
          diskSize = 8192;
          cores = 2;
        };
        networking.hosts.${nodes.acme.networking.primaryIPAddress} = [
          nodes.acme.test-support.acme.caDomain
        ];
        services.experts-panel = {
          enable = true;
          inherit domain;
          acmeEmail = "ops@${domain}";
          acmeServer = "https://${nodes.acme.test-support.acme.caDomain}/dir";
          acmeCaBundle = nodes.acme.test-support.acme.caCert;
          # The first subtest checks SSH by key only and fail2ban's jail.
          hardenHost = true;
        };
        environment.systemPackages = [ pkgs.openssl ];
      };

    client =
      { nodes, ... }:
      {
        networking.hosts.${nodes.server.networking.primaryIPAddress} = [ domain ];
        networking.hosts.${nodes.acme.networking.primaryIPAddress} = [
          nodes.acme.test-support.acme.caDomain
        ];
        security.pki.certificateFiles = [ nodes.acme.test-support.acme.caCert ];
        environment.systemPackages = [
          pkgs.curl
          pkgs.openssl
          pkgs.python3
        ];
      };
  };

  testScript =
    { nodes, ... }:
    let
      caDomain = nodes.acme.test-support.acme.caDomain;
      inherit (nodes.server.services.experts-panel) home;
      images = nodes.server.services.experts-panel.images;
      demoData = "${images.service}/${pkgs.python3.sitePackages}/experts_panel/demo/data";
    in
    ''
      import json
      import shlex

      USER_PATH = "/run/wrappers/bin:/run/current-system/sw/bin"


      def as_user(command):
          """A command as the stack's user, inside its own systemd session."""
          return (
              "systemd-run --machine=${user}@ --user --wait --pipe --quiet --collect "
              f"--property=Environment=PATH={USER_PATH} "
              "--property=EnvironmentFile=${home}/.config/experts-panel/env "
              f"-- sh -c {shlex.quote(command)}"
          )


      def user_systemctl(args):
          return f"systemctl --machine=${user}@ --user {args}"


      def wait_healthy():
          # is-active with several units succeeds when any one is active: ask for each.
          for unit in ("experts-panel-api.service", "experts-panel-web.service"):
              server.wait_until_succeeds(user_systemctl(f"is-active {unit}"), timeout=900)
          for container in ("experts-panel-api", "experts-panel-web"):
              status = server.succeed(
                  as_user(f"podman inspect --format '{{{{.State.Health.Status}}}}' {container}")
              ).strip()
              assert status == "healthy", f"{container} is {status}"


      def nothing_as_root():
          # Every process of the stack (Podman's helpers, conmon, nginx, the service) belongs
          # to the stack's user, not root.
          table = server.succeed("ps -eo user:32=,args=")
          stack = [
              line for line in table.splitlines()
              if any(word in line for word in ("conmon", "nginx", "experts-panel", "pasta", "rootlessport", "podman"))
              and "ps -eo" not in line and "systemd-run" not in line
          ]
          assert stack, "no process of the stack is running"
          wrong = [line for line in stack if line.split()[0] != "${user}"]
          assert not wrong, "stack processes not owned by ${user}:\n" + "\n".join(wrong)


      def served_serial():
          return client.succeed(
              "openssl s_client -connect ${domain}:443 -servername ${domain} </dev/null 2>/dev/null"
              " | openssl x509 -noout -serial"
          ).strip()


      def expert_ids():
          experts = json.loads(
              client.succeed("curl -fsS --cacert /tmp/pebble-root.pem https://${domain}/api/v1/experts")
          )
          return {expert["id"] for expert in experts}


      start_all()
      acme.wait_for_unit("pebble.service")
      acme.wait_for_open_port(443)

      with subtest("The host: SSH by key only, fail2ban watching it, 80 and 443 unprivileged"):
          server.wait_for_unit("multi-user.target")
          sshd = server.succeed("sshd -T")
          assert "passwordauthentication no" in sshd, sshd
          assert "kbdinteractiveauthentication no" in sshd, sshd
          assert "permitrootlogin without-password" in sshd or "permitrootlogin prohibit-password" in sshd, sshd
          server.wait_for_unit("fail2ban.service")
          server.wait_until_succeeds("fail2ban-client status sshd")
          assert server.succeed("sysctl -n net.ipv4.ip_unprivileged_port_start").strip() == "80"
          server.succeed("test -e /var/lib/systemd/linger/${user}")

      with subtest("systemctl --user start experts-panel brings the stack up healthy"):
          server.wait_for_unit("user@${toString uid}.service")
          server.wait_for_unit("experts-panel-refresh.service")
          server.succeed(user_systemctl("start experts-panel.service"))
          wait_healthy()

      with subtest("Nothing of the stack runs as root"):
          nothing_as_root()

      with subtest("Before the first certificate, nginx serves a self-signed placeholder"):
          client.wait_until_succeeds("curl -fsS -k https://${domain}/health")
          client.fail("curl -fsS https://${domain}/health")

      with subtest("certbot gets a certificate from Pebble; nginx serves it"):
          server.succeed(user_systemctl("start experts-panel-certbot.service"))
          client.succeed(
              "curl -fsS https://${caDomain}:15000/roots/0 > /tmp/pebble-root.pem"
          )
          client.wait_until_succeeds(
              "curl -fsS --cacert /tmp/pebble-root.pem https://${domain}/health", timeout=60
          )
          issuer = client.succeed(
              "openssl s_client -connect ${domain}:443 -servername ${domain} </dev/null 2>/dev/null"
              " | openssl x509 -noout -issuer"
          )
          assert "Pebble" in issuer, issuer

      with subtest("HTTP redirects to HTTPS"):
          answer = client.succeed(
              "curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://${domain}/some/page"
          ).split()
          assert answer[0] in ("301", "308"), answer
          assert answer[1] == "https://${domain}/some/page", answer

      with subtest("An expert imported into the running service is served"):
          server.succeed(as_user(
              "podman exec experts-panel-api /bin/experts-panel import --expert selfhost_ops"
              " --username selfhost_ops_demo --comments ${demoData}/selfhost_ops.comments.json"
              " ${demoData}/selfhost_ops.json"
          ))
          server.succeed(as_user(
              "podman exec experts-panel-api /bin/experts-panel index --expert selfhost_ops"
          ))
          server.succeed(user_systemctl("restart experts-panel-api.service"))
          wait_healthy()
          assert "selfhost_ops" in expert_ids()

      with subtest("An SSE query streams through nginx event by event"):
          client.succeed("cp ${sseProbe} /tmp/sse-probe.py")
          events = json.loads(client.succeed(
              "python3 /tmp/sse-probe.py https://${domain}/api/v1/query /tmp/pebble-root.pem"
          ))
          kinds = [kind for _, kind in events]
          assert kinds[0] == "start" and kinds[-1] == "complete", kinds
          assert len(events) >= 3, kinds
          # Buffered by nginx, every event would arrive at once with the last.
          assert events[-1][0] - events[0][0] > 0.05, events

      with subtest("The backup timer's service takes a verified backup, and restore brings it back"):
          server.succeed(user_systemctl("start experts-panel-backup.service"))
          backups = server.succeed(as_user(
              "ls -1 \"$(podman volume inspect --format '{{.Mountpoint}}' experts-panel-backups)\""
          )).split()
          assert backups, "no backup was written"
          server.succeed(as_user(
              "podman exec experts-panel-api /bin/experts-panel experts remove selfhost_ops --yes"
          ))
          assert "selfhost_ops" not in expert_ids()
          newest = sorted(name for name in backups if name.endswith(".db.zst"))[-1]
          server.succeed(as_user(f"$HOME/.local/lib/experts-panel/experts-panel-restore {newest}"))
          wait_healthy()
          assert "selfhost_ops" in expert_ids()

      with subtest("Renewal: nginx serves the new certificate and no request fails meanwhile"):
          before = served_serial()
          client.succeed("cp ${loadProbe} /tmp/load-probe.py && rm -f /tmp/stop")
          client.succeed(
              "systemd-run --unit=load-probe --property=StandardOutput=file:/tmp/load.json"
              " python3 /tmp/load-probe.py https://${domain}/health /tmp/pebble-root.pem"
          )
          server.succeed(as_user("$HOME/.local/lib/experts-panel/experts-panel-certbot --force-renewal"))
          client.wait_until_succeeds(f"test \"$(openssl s_client -connect ${domain}:443 -servername ${domain} </dev/null 2>/dev/null | openssl x509 -noout -serial)\" != {shlex.quote(before)}", timeout=60)
          client.sleep(2)
          client.succeed("touch /tmp/stop")
          client.wait_until_fails("systemctl is-active load-probe.service")
          counts = json.loads(client.succeed("cat /tmp/load.json"))
          assert counts["ok"] > 20 and counts["failed"] == 0, counts

      with subtest("A killed API is brought back by systemd"):
          old = server.succeed(as_user("podman inspect --format '{{.State.Pid}}' experts-panel-api")).strip()
          server.succeed(as_user("podman kill --signal KILL experts-panel-api"))
          server.wait_until_succeeds(
              as_user(f"test \"$(podman inspect --format '{{{{.State.Pid}}}}' experts-panel-api)\" != {old}"),
              timeout=300,
          )
          wait_healthy()

      with subtest("After a reboot the stack is back with its data"):
          server.shutdown()
          server.start()
          server.wait_for_unit("user@${toString uid}.service")
          wait_healthy()
          assert "selfhost_ops" in expert_ids()
          nothing_as_root()
    '';
}
