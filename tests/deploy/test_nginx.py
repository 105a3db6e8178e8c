"""nginx/ as the web image runs it: `nginx -t`, then the real nginx of Debian 13 serving the
configuration from its image path, as the image's user (uid 10001), in a private network
namespace (so it listens on its real ports 8080 and 8443 and nothing outside can reach it),
in front of a small stand-in for the API on 127.0.0.1:8000 (fake_api.py)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import IN_ROOTFS, NGINX, QUADLET, REPO, SPEC, in_rootfs

WEB = SPEC["images"]["web"]
API = SPEC["images"]["api"]
UID, GID = SPEC["user"]["uid"], SPEC["user"]["gid"]
CERTS = WEB["volumes"]["certs"]
ACME = WEB["volumes"]["acme"]
STATIC = "/srv/experts-panel"
HOST = "panel.test"
AS_PANEL = ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups"]
BIN = QUADLET / "bin"


def run(*cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True)


@contextmanager
def open_folder() -> Iterator[Path]:
    """A temporary folder uid 10001 can reach (pytest's own are private to root)."""
    with tempfile.TemporaryDirectory(prefix="deploy-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


@pytest.fixture
def folder() -> Iterator[Path]:
    with open_folder() as path:
        yield path


def own(path: Path) -> None:
    """Hands a directory tree to uid 10001: in the pod the host user is that uid, so the
    volumes' files belong to nginx's user."""
    for p in [path, *path.rglob("*")]:
        os.chown(p, UID, GID)


def openssl(args: str) -> None:
    """openssl with space-separated arguments (the temporary paths hold no spaces)."""
    run("openssl", *args.split())


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A test CA and a certificate it signed for panel.test, laid out as certbot's live/
    lineage (fullchain.pem, privkey.pem). Returns (lineage, CA certificate)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, csr, ext = (folder / n for n in ("ca.key", "ca.pem", "leaf.csr", "ext.cnf"))
    live = folder / "live"
    live.mkdir()
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    openssl(f"req -x509 {ec} -days 2 -subj /CN=deploy-test-CA -keyout {ca_key} -out {ca}")
    openssl(f"req -new {ec} -subj /CN={HOST} -keyout {live}/privkey.pem -out {csr}")
    ext.write_text(f"subjectAltName=DNS:{HOST}\n")
    openssl(
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -days 2 -extfile {ext}"
        f" -out {live}/cert.pem"
    )
    (live / "fullchain.pem").write_bytes((live / "cert.pem").read_bytes() + ca.read_bytes())
    return live, ca


def static_site(folder: Path) -> Path:
    """A front end shaped like the built one: index.html and a hashed asset."""
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js">'
        '</script></head><body><div id="root"></div></body></html>\n'
    )
    (folder / "assets" / "index-abc123.js").write_text("console.log('experts panel');\n" * 200)
    return folder


# --- nginx -t ------------------------------------------------------------------------------


def nginx_t(rootfs: Path, conf: Path, certs: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` as the image runs nginx: its user, the configuration at /etc/nginx, the
    certificate at its volume's path. Output goes through a pipe the user owns, as the
    container's output does (conmon's pipe belongs to the host user, uid 10001 inside)."""
    return in_rootfs(
        rootfs,
        *AS_PANEL,
        "bash",
        "-c",
        "set -o pipefail; nginx -t -c /etc/nginx/nginx.conf 2>&1 | cat",
        ro_binds={conf: "/etc/nginx", certs: CERTS},
    )


@pytest.fixture
def placeholder_certs(folder: Path) -> Path:
    certs = folder / "certs"
    certs.mkdir()
    own(certs)
    out = subprocess.run(
        [*AS_PANEL, str(BIN / "experts-panel-tls-placeholder"), str(certs)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return certs


def test_nginx_t_accepts_the_configuration(rootfs: Path, placeholder_certs: Path) -> None:
    result = nginx_t(rootfs, NGINX, placeholder_certs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "syntax is ok" in result.stdout
    assert "test is successful" in result.stdout
    assert not re.search(r"\[(warn|alert|emerg|crit|error)\]", result.stdout), result.stdout


def test_nginx_t_rejects_a_broken_configuration(
    rootfs: Path, placeholder_certs: Path, folder: Path
) -> None:
    broken = folder / "nginx"
    shutil.copytree(NGINX, broken)
    conf = broken / "proxy-to-api.conf"
    conf.write_text(conf.read_text().replace("proxy_buffering off;", "proxy_buffering of;"))
    result = nginx_t(rootfs, broken, placeholder_certs)
    assert result.returncode != 0
    assert "proxy_buffering" in result.stdout


def test_configuration_agrees_with_spec() -> None:
    conf = (NGINX / "nginx.conf").read_text()
    listen = {int(p) for p in re.findall(r"^\s*listen (?:\[::\]:)?(\d+)", conf, re.M)}
    assert listen == set(WEB["ports"])
    assert f"ssl_certificate {CERTS}/fullchain.pem;" in conf
    assert f"ssl_certificate_key {CERTS}/privkey.pem;" in conf
    assert f"root {ACME};" in conf
    assert f"root {STATIC};" in conf
    assert any(STATIC in item for item in WEB["contains"])
    assert f"server {API['env']['API_HOST']}:{API['env']['API_PORT']};" in conf
    assert API["ports"] == [int(API["env"]["API_PORT"])]
    # The health command asks nginx's HTTP port for /nginx-health.
    url = WEB["health"]["cmd"][-1]
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/\S+)", url)
    assert match and int(match[1]) in WEB["ports"]
    assert f"location = {match[2]} {{" in conf
    assert WEB["entrypoint"] == ["/bin/nginx", "-c", "/etc/nginx/nginx.conf"]
    # The entry point gives no -g: the configuration keeps nginx in the foreground.
    assert re.search(r"^daemon off;", conf, re.M)


def test_front_end_needs_nothing_the_csp_forbids() -> None:
    conf = (NGINX / "nginx.conf").read_text()
    csp = re.search(r'Content-Security-Policy "([^"]+)"', conf)
    assert csp
    assert "'unsafe-inline'" not in csp[1] and "'unsafe-eval'" not in csp[1]
    assert "script-src 'self'" in csp[1] and "frame-ancestors 'none'" in csp[1]
    # Vite keeps index.html's own markup: it must load scripts and styles from files of the
    # same origin only (inline code or another origin would be blocked).
    html = (REPO / "frontend" / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


# --- The running nginx ---------------------------------------------------------------------


@dataclass
class Web:
    """nginx and the stand-in API in a private network namespace."""

    process: subprocess.Popen[bytes]
    log: Path
    certs: Path
    acme: Path
    ca: Path | None

    def netns(self) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.process.pid}/ns/net"]

    def curl(self, *args: str, source: str = "127.0.0.1") -> subprocess.CompletedProcess[str]:
        """curl in the namespace, from `source`, trusting the test CA (or any certificate
        when there is none). Output keeps HTTP's CRLF line ends."""
        trust = ["--cacert", str(self.ca)] if self.ca else ["--insecure"]
        resolve = ["--resolve", f"{HOST}:8080:127.0.0.1", "--resolve", f"{HOST}:8443:127.0.0.1"]
        cmd = [*self.netns(), "curl", "-sS", "--max-time", "10", "--interface", source]
        done = subprocess.run(
            [*cmd, *resolve, *trust, *args], capture_output=True, timeout=30, check=False
        )
        return subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode()
        )

    def get(
        self, path: str, *args: str, source: str = "127.0.0.1"
    ) -> tuple[int, dict[str, str], str]:
        """(status, headers in lower case, body) of one HTTPS request."""
        result = self.curl("-D", "-", f"https://{HOST}:8443{path}", *args, source=source)
        assert result.returncode == 0, result.stderr
        head, _, body = result.stdout.partition("\r\n\r\n")
        status_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            name, _, val = line.partition(":")
            headers[name.strip().lower()] = val.strip()
        return int(status_line.split()[1]), headers, body

    def master_pid(self) -> int:
        """The nginx master process, as the host sees it."""
        netns = os.readlink(f"/proc/{self.process.pid}/ns/net")
        for entry in Path("/proc").iterdir():
            try:
                if (
                    entry.name.isdigit()
                    and os.readlink(entry / "ns" / "net") == netns
                    and (entry / "cmdline").read_bytes().startswith(b"nginx: master process")
                ):
                    return int(entry.name)
            except OSError:
                continue
        raise AssertionError("no nginx master process")

    def stop(self) -> None:
        # No process left in the group when the namespace or nginx failed to start: the
        # caller's report of that failure must not be replaced by this one.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


def start_web(rootfs: Path, folder: Path, certs: Path, ca: Path | None) -> Web:
    acme = folder / "acme"
    (acme / ".well-known" / "acme-challenge").mkdir(parents=True)
    site = static_site(folder / "site")
    for path in (certs, acme, site):
        own(path)
    log = folder / "web.log"
    binds = {NGINX: "/etc/nginx", certs: CERTS, acme: ACME, site: STATIC}
    inner = [str(IN_ROOTFS), str(rootfs)]
    for src, dest in binds.items():
        inner += ["--ro-bind", f"{src}:{dest}"]
    inner += ["--", *AS_PANEL, "bash", "-c", "nginx -c /etc/nginx/nginx.conf 2>&1 | cat"]
    # In the new network namespace: loopback up, the stand-in API in the background, then
    # nginx in its throwaway root file system.
    script = 'ip link set lo up || exit 1; "$1" "$2" 8000 & shift 2; exec "$@"'
    fake_api = [sys.executable, str(Path(__file__).with_name("fake_api.py"))]
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["unshare", "--net", "bash", "-c", script, "web", *fake_api, *inner],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = Web(process, log, certs, acme, ca)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready = [
            web.curl("-o", "/dev/null", "-w", "%{http_code}", url).stdout
            for url in ("http://127.0.0.1:8080/nginx-health", "http://127.0.0.1:8000/health")
        ]
        if ready == ["200", "200"]:
            return web
        if process.poll() is not None:
            break
        time.sleep(0.05)
    web.stop()
    # The log holds the output of every command of the start, unshare's and ip's included.
    raise AssertionError(
        f"nginx or the stand-in API did not start (exit status {process.returncode}):\n"
        f"{log.read_text()}"
    )


@pytest.fixture(scope="module")
def web(rootfs: Path) -> Iterator[Web]:
    with open_folder() as folder:
        yield from _web(rootfs, folder)


def _web(rootfs: Path, folder: Path) -> Iterator[Web]:
    live, ca = make_certificate(folder / "pki")
    certs = folder / "certs"
    certs.mkdir()
    shutil.copy(live / "fullchain.pem", certs)
    shutil.copy(live / "privkey.pem", certs)
    (certs / "privkey.pem").chmod(0o600)
    web = start_web(rootfs, folder, certs, ca)
    yield web
    web.stop()


def test_http_redirects_to_https(web: Web) -> None:
    out = web.curl(
        "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", f"http://{HOST}:8080/experts/a?q=1"
    )
    assert out.stdout == f"301 https://{HOST}/experts/a?q=1"


def test_acme_challenges_are_served_over_http(web: Web) -> None:
    token = web.acme / ".well-known" / "acme-challenge" / "tok3n"
    token.write_text("tok3n.thumbprint")
    os.chown(token, UID, GID)
    out = web.curl("-i", f"http://{HOST}:8080/.well-known/acme-challenge/tok3n")
    assert out.stdout.startswith("HTTP/1.1 200")
    assert out.stdout.endswith("\r\n\r\ntok3n.thumbprint")
    missing = web.curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        f"http://{HOST}:8080/.well-known/acme-challenge/nothing",
    )
    assert missing.stdout == "404"


def test_health_command_answers_only_locally(web: Web) -> None:
    # The web image's health command itself, run in the pod's (here: the test's) network.
    cmd = [Path(WEB["health"]["cmd"][0]).name, *WEB["health"]["cmd"][1:]]
    assert subprocess.run([*web.netns(), *cmd], check=False).returncode == 0
    elsewhere = web.curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://127.0.0.1:8080/nginx-health",
        source="127.0.0.2",
    )
    assert elsewhere.stdout == "403"


def test_front_end_over_https_with_security_headers(web: Web) -> None:
    version = web.curl("-o", "/dev/null", "-w", "%{http_version}", f"https://{HOST}:8443/")
    assert version.stdout == "2"
    status, headers, body = web.get("/")
    assert status == 200 and '<div id="root">' in body
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-cache"

    # Client-side routes get the app; missing assets are a plain 404, headers still there.
    status, headers, body = web.get("/experts/some-channel")
    assert status == 200 and '<div id="root">' in body and headers["cache-control"] == "no-cache"
    status, headers, _ = web.get("/assets/index-missing.js")
    assert status == 404 and headers["x-content-type-options"] == "nosniff"


def test_metrics_are_not_served_through_nginx(web: Web) -> None:
    # The fallback to the app answers 200 to any path; the metrics' paths get a plain 404.
    for path in ("/metrics", "/metrics/", "/metrics?name[]=up"):
        status, headers, body = web.get(path)
        assert status == 404, path
        assert '<div id="root">' not in body and headers["x-content-type-options"] == "nosniff"
    status, _, body = web.get("/metrics-and-more")
    assert status == 200 and '<div id="root">' in body  # only the metrics' own paths


def test_hashed_assets_are_cached_and_compressed(web: Web) -> None:
    status, headers, _ = web.get("/assets/index-abc123.js", "-H", "Accept-Encoding: gzip")
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/javascript"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_api_is_proxied_with_the_edge_headers(web: Web) -> None:
    status, headers, body = web.get(
        "/api/v1/echo", "-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Request-ID: mine"
    )
    assert status == 200
    seen = json.loads(body)
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-real-ip"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "https"
    assert seen["host"] == HOST
    assert re.fullmatch(r"[0-9a-f]{32}", seen["x-request-id"])
    assert "cache-control" not in headers  # the API decides its own caching
    status, _, body = web.get("/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("http", ["--http1.1", "--http2"])
def test_events_stream_through_one_by_one(web: Web, http: str) -> None:
    """The stand-in writes an event every 0.3 s, stamped with the time it was sent; each must
    reach the client before the next one is even sent, not all at the end (proxy buffering
    shows over HTTP/1.1) or in a batch (gzip)."""
    gap, events = 0.3, 3
    cmd = [*web.netns(), "curl", "-sS", "-N", http, "--cacert", str(web.ca), "-X", "POST"]
    cmd += ["--resolve", f"{HOST}:8443:127.0.0.1", "-H", "Accept-Encoding: gzip", "-d", "{}"]
    cmd += ["-D", "/dev/stderr", f"https://{HOST}:8443/api/v1/query?events={events}&gap={gap}"]
    received = []  # (time it arrived, time it was sent)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as curl:
        assert curl.stdout is not None and curl.stderr is not None
        for line in iter(curl.stdout.readline, b""):
            if line.startswith(b"data:"):
                received.append((time.time(), json.loads(line[5:])["sent"]))
        headers = curl.stderr.read().decode().lower()
    assert curl.returncode == 0
    assert "content-type: text/event-stream" in headers
    assert "content-encoding" not in headers
    assert len(received) == events
    for (arrived, _), (_, next_sent) in itertools.pairwise(received):
        assert arrived < next_sent, received


def test_questions_are_rate_limited_per_client(web: Web) -> None:
    def ask(source: str) -> str:
        url = f"https://{HOST}:8443/api/v1/query"
        out = ["-o", "/dev/null", "-w", "%{http_code}"]
        return web.curl(*out, "-X", "POST", "-d", "{}", url, source=source).stdout

    codes = [ask("127.0.0.3") for _ in range(9)]
    # One at the rate plus a burst of five, then 429 until the bucket refills (one per 10 s).
    assert codes == ["200"] * 6 + ["429"] * 3
    # Another client is not affected.
    assert ask("127.0.0.5") == "200"
    status, headers, _ = web.get("/api/v1/query", "-X", "POST", "-d", "{}", source="127.0.0.3")
    assert status == 429 and headers["x-content-type-options"] == "nosniff"


def test_every_request_counts_against_the_general_limit(web: Web, tmp_path: Path) -> None:
    # 150 requests over one connection, back to back.
    out = web.curl(
        "-o",
        f"{tmp_path}/#1",
        "-w",
        "%{http_code}\\n",
        f"https://{HOST}:8443/assets/index-abc123.js?[1-150]",
        source="127.0.0.4",
    )
    codes = out.stdout.split()
    assert len(codes) == 150
    assert codes[:61] == ["200"] * 61  # one at the rate plus the burst of 60
    assert "429" in codes


def test_connections_are_limited_per_client(web: Web) -> None:
    """20 requests in flight per client address; the 21st is refused at once, while another
    client is served."""
    url = f"https://{HOST}:8443/api/v1/slow?seconds=4"
    out = ["-o", "/dev/null", "-w", "%{http_code}"]
    curl = [*web.netns(), "curl", "-sS", "--max-time", "20", "--interface", "127.0.0.6"]
    curl += ["--resolve", f"{HOST}:8443:127.0.0.1", "--cacert", str(web.ca)]
    slow = [
        subprocess.Popen(
            [*curl, *out, url],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    try:
        time.sleep(1.5)  # all twenty are connected and waiting on the API
        started = time.monotonic()
        one_more = web.curl(*out, url, source="127.0.0.6").stdout
        assert one_more == "429"
        assert time.monotonic() - started < 2  # refused, not queued
        assert (
            web.curl(*out, f"https://{HOST}:8443/api/v1/echo", source="127.0.0.7").stdout == "200"
        )
        codes = [p.communicate(timeout=30)[0] for p in slow]
    finally:
        for p in slow:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert codes == ["200"] * 20
    assert "limiting connections by zone" in web.log.read_text()


def test_basic_auth_is_on_while_an_htpasswd_file_exists(web: Web) -> None:
    hashed = run("openssl", "passwd", "-6", "s3cret").stdout.strip()
    htpasswd = web.certs / "htpasswd"
    htpasswd.write_text(f"reader:{hashed}\n")
    os.chown(htpasswd, UID, GID)
    try:
        status, headers, _ = web.get("/")
        assert status == 401
        assert headers["www-authenticate"] == 'Basic realm="Experts Panel"'
        assert headers["strict-transport-security"].startswith("max-age=")
        assert web.get("/", "-u", "reader:s3cret")[0] == 200
        assert web.get("/api/v1/echo", "-u", "reader:wrong")[0] == 401
        # Plain HTTP keeps answering ACME challenges and the health check.
        health = web.curl(
            "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8080/nginx-health"
        )
        assert health.stdout == "200"
    finally:
        htpasswd.unlink()
    assert web.get("/")[0] == 200


def test_extra_headers_file_in_the_certs_volume_is_read_on_reload(web: Web) -> None:
    extra = web.certs / "extra-headers.conf"
    extra.write_text('add_header X-Panel-Operator "on call" always;\n')
    os.chown(extra, UID, GID)

    def reload_until(present: bool) -> None:
        os.kill(web.master_pid(), signal.SIGHUP)
        deadline = time.monotonic() + 10
        while ("x-panel-operator" in web.get("/")[1]) != present:
            assert time.monotonic() < deadline, "nginx did not reload"
            time.sleep(0.05)

    try:
        reload_until(present=True)
        assert web.get("/")[1]["x-panel-operator"] == "on call"
    finally:
        extra.unlink()
    reload_until(present=False)


def served_certificate(web: Web) -> str:
    """Subject and issuer of the certificate nginx presents now."""
    s_client = subprocess.run(
        [*web.netns(), "openssl", "s_client", "-connect", "127.0.0.1:8443", "-servername", HOST],
        input="",
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return run("openssl", "x509", "-noout", "-subject", "-issuer", stdin=s_client.stdout).stdout


def test_first_start_placeholder_then_deploy_hook_reloads(
    rootfs: Path, folder: Path, placeholder_certs: Path
) -> None:
    """Before any issuance nginx serves the placeholder; certbot's deploy hook then installs the
    issued certificate and reloads nginx, which serves it without failing a request."""
    web = start_web(rootfs, folder, placeholder_certs, ca=None)
    try:
        assert "experts-panel placeholder" in served_certificate(web)

        live, ca = make_certificate(folder / "pki")
        own(folder / "pki")
        # A test double for podman's three calls in the hook (the whole-host test runs the
        # real podman): the volume's mount point, "running", and SIGHUP to nginx.
        fake = folder / "fake-bin"
        fake.mkdir()
        (fake / "podman").write_text(
            '#!/bin/sh\ncase "$*" in\n'
            f'  "volume inspect --format {{{{.Mountpoint}}}} experts-panel-certs") '
            f"echo {placeholder_certs} ;;\n"
            '  "container inspect --format {{.State.Running}} experts-panel-web") echo true ;;\n'
            f'  "kill --signal HUP experts-panel-web") kill -HUP {web.master_pid()} ;;\n'
            '  *) echo "unexpected podman $*" >&2; exit 3 ;;\n'
            "esac\n"
        )
        (fake / "podman").chmod(0o755)

        # Requests keep going while the hook runs: 60 over 1.2 s (within the rate limit's burst).
        url = f"https://{HOST}:8443/assets/index-abc123.js?[1-60]"
        options = ["-s", "-k", "-o", "/dev/null", "--max-time", "20", "--rate", "50/s"]
        resolve = ["--resolve", f"{HOST}:8443:127.0.0.1"]
        load = subprocess.Popen(
            [*web.netns(), "curl", *options, *resolve, "-w", "%{http_code}\\n", url],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.3)
        hook = subprocess.run(
            [*AS_PANEL, str(BIN / "experts-panel-certbot-deploy")],
            env={"PATH": f"{fake}:/usr/bin:/bin", "RENEWED_LINEAGE": str(live)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert hook.returncode == 0, hook.stderr
        assert "reloads onto it" in hook.stdout
        assert load.poll() is None, "the requests ended before the reload"

        web.ca = ca
        deadline = time.monotonic() + 10
        while web.curl("-o", "/dev/null", f"https://{HOST}:8443/").returncode != 0:
            assert time.monotonic() < deadline, "nginx never served the new certificate"
            time.sleep(0.05)
        assert "deploy-test-CA" in served_certificate(web)
        codes, _ = load.communicate(timeout=30)
        assert codes.split() == ["200"] * 60

        assert sorted(p.name for p in placeholder_certs.iterdir()) == [
            "fullchain.pem",
            "privkey.pem",
        ]
        assert (placeholder_certs / "privkey.pem").stat().st_mode & 0o777 == 0o600
    finally:
        web.stop()
