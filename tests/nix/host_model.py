"""A model of the VM test's three machines that answers the testScript's shell commands.

nix/tests/host.nix boots an ACME server, the server (services.experts-panel) and a client;
nixpkgs cannot be fetched here, so tests/nix/test_host_script.py runs its testScript against
this model through tests/nix/driver_stub.py instead. The model keeps the state the script
changes (the stack up or down, the certificate nginx serves, the experts, the backups, the
API's process, the client's load probe) and answers each command the script sends as the
machine would when all is well. A `Faults` turns one thing wrong, as a broken host would have
it, so the test can show that the script's checks then fail.

A command the model does not know is an error naming it: the script and the model are kept
in step, each new command with its answer here.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

# host.nix's own values (its `let`) and the stand-ins tests/nix/host-test-script.nix is given.
DOMAIN = "panel.test"
USER = "panel"
UID = 10001
HOME = "/var/lib/experts-panel"
CA_DOMAIN = "acme.test"
SERVICE = "/nix/store/" + "1" * 32 + "-experts-panel-service"
SITE_PACKAGES = "lib/python3.13/site-packages"
DEMO_DATA = f"{SERVICE}/{SITE_PACKAGES}/experts_panel/demo/data"
NODES = ["acme", "client", "server"]


class UnknownCommand(Exception):
    """The testScript sent a command this model has no answer for."""


@dataclass(frozen=True)
class Faults:
    """One thing wrong on the host, or nothing (the default)."""

    password_login: bool = False  # sshd still takes passwords
    root_process: bool = False  # one process of the stack runs as root
    unhealthy_api: bool = False  # the API container never becomes healthy
    placeholder_trusted: bool = False  # the placeholder certificate verifies without -k
    issuer: str = "CN = Pebble Intermediate CA 5f3c9a"  # who issued certbot's certificate
    redirect: str = f"301 https://{DOMAIN}/some/page"  # the HTTP answer for /some/page
    buffered_stream: bool = False  # nginx buffers the SSE stream to its end
    restore_loses_expert: bool = False  # restore does not bring the removed expert back
    failed_requests: int = 0  # the client's requests that fail during the renewal
    renewal_keeps_serial: bool = False  # nginx keeps serving the old certificate
    api_stays_dead: bool = False  # systemd does not bring a killed API back
    data_lost_on_reboot: bool = False  # the experts are gone after a reboot


@dataclass
class HostModel:
    """The three machines' state, and their answers (driver_stub.Answers)."""

    files: dict[str, str]  # the store paths the script refers to (pkgs.writeText): name
    faults: Faults = field(default_factory=Faults)
    powered: set[str] = field(default_factory=set)
    stack_started: bool = False
    certificate: str = "placeholder"  # or "pebble"
    serial: int = 0x1A2B
    experts: set[str] = field(default_factory=set)
    backups: dict[str, frozenset[str]] = field(default_factory=dict)
    api_pid: int = 4242
    client_files: set[str] = field(default_factory=set)
    probe_running: bool = False

    # --- driver_stub.Answers ------------------------------------------------------------

    def power(self, machine: str, on: bool) -> None:
        if on:
            self.powered.add(machine)
            return
        self.powered.discard(machine)
        if machine == "server":
            # The user's units start again at boot (lingering); the data is on its volumes.
            self.api_pid += 100
            if self.faults.data_lost_on_reboot:
                self.experts.clear()

    def run(self, machine: str, command: str) -> tuple[int, str]:
        if machine not in self.powered:
            raise UnknownCommand(f"{machine} is not running, yet got: {command}")
        answer = {"acme": self._acme, "server": self._server, "client": self._client}[machine]
        result = answer(command)
        if result is None:
            raise UnknownCommand(f"{machine}: the host model has no answer for: {command}")
        return result

    # --- the machines -------------------------------------------------------------------

    def _unit(self, command: str, units: dict[str, bool]) -> tuple[int, str] | None:
        match = re.fullmatch(
            r'systemctl --no-pager show "([^"]+)" --property="ActiveState"', command
        )
        if not match or match[1] not in units:
            return None
        return 0, f"ActiveState={'active' if units[match[1]] else 'activating'}\n"

    def _acme(self, command: str) -> tuple[int, str] | None:
        if unit := self._unit(command, {"pebble.service": True}):
            return unit
        if command == "nc -z localhost 443":
            return 0, ""
        return None

    def _stack_up(self) -> bool:
        return "server" in self.powered and self.stack_started

    def _server(self, command: str) -> tuple[int, str] | None:
        units = {
            "multi-user.target": True,
            "fail2ban.service": True,
            f"user@{UID}.service": True,
            "experts-panel-refresh.service": True,
        }
        if unit := self._unit(command, units):
            return unit
        if command == "sshd -T":
            password = "yes" if self.faults.password_login else "no"
            return 0, (
                f"port 22\npasswordauthentication {password}\nkbdinteractiveauthentication no\n"
                "permitrootlogin prohibit-password\n"
            )
        if command == "fail2ban-client status sshd":
            return 0, "Status for the jail: sshd\n"
        if command == "sysctl -n net.ipv4.ip_unprivileged_port_start":
            return 0, "80\n"
        if command == f"test -e /var/lib/systemd/linger/{USER}":
            return 0, ""
        if command == "ps -eo user:32=,args=":
            return 0, self._processes()
        prefix = f"systemctl --machine={USER}@ --user "
        if command.startswith(prefix):
            return self._user_systemctl(command.removeprefix(prefix))
        if command.startswith("systemd-run "):
            return self._as_user(command)
        return None

    def _processes(self) -> str:
        stack = [
            "podman",
            "conmon --api-version 1 -c experts-panel-api",
            "/bin/experts-panel serve",
            "conmon --api-version 1 -c experts-panel-web",
            "nginx: master process nginx -g daemon off;",
            "nginx: worker process",
            "pasta --config-net",
        ]
        owners = [USER] * len(stack)
        if self.faults.root_process:
            owners[4] = "root"
        lines = ["root /run/current-system/systemd/lib/systemd/systemd", "root sshd: /bin/sshd"]
        if self._stack_up():
            lines += [f"{owner} {args}" for owner, args in zip(owners, stack, strict=True)]
        lines.append("root ps -eo user:32=,args=")
        return "\n".join(lines) + "\n"

    def _user_systemctl(self, args: str) -> tuple[int, str] | None:
        if args == "start experts-panel.service":
            self.stack_started = True
            return 0, ""
        match = re.fullmatch(r"is-active (experts-panel-(?:api|web)\.service)", args)
        if match:
            return (0, "active\n") if self._stack_up() else (3, "inactive\n")
        if args == "start experts-panel-certbot.service":
            self.certificate = "pebble"
            return 0, ""
        if args == "restart experts-panel-api.service":
            self.api_pid += 1
            return 0, ""
        if args == "start experts-panel-backup.service":
            name = f"experts-panel-2026071{len(self.backups)}T030000Z.db.zst"
            self.backups[name] = frozenset(self.experts)
            return 0, ""
        return None

    def _as_user(self, command: str) -> tuple[int, str] | None:
        """A command run by as_user(): systemd-run in the stack user's session, then sh -c."""
        words = shlex.split(command)
        expected = [
            "systemd-run",
            f"--machine={USER}@",
            "--user",
            "--wait",
            "--pipe",
            "--quiet",
            "--collect",
            "--property=Environment=PATH=/run/wrappers/bin:/run/current-system/sw/bin",
            f"--property=EnvironmentFile={HOME}/.config/experts-panel/env",
            "--",
            "sh",
            "-c",
        ]
        if words[:-1] != expected:
            return None
        inner = words[-1].replace("$HOME", HOME)
        return self._user_command(inner)

    def _user_command(self, command: str) -> tuple[int, str] | None:
        api = "experts-panel-api"
        health = "podman inspect --format '{{.State.Health.Status}}' "
        if command == health + api:
            healthy = self._stack_up() and not self.faults.unhealthy_api
            return 0, "healthy\n" if healthy else "starting\n"
        if command == health + "experts-panel-web":
            return 0, "healthy\n" if self._stack_up() else "starting\n"
        if command == (
            f"podman exec {api} /bin/experts-panel import --expert selfhost_ops"
            f" --username selfhost_ops_demo --comments {DEMO_DATA}/selfhost_ops.comments.json"
            f" {DEMO_DATA}/selfhost_ops.json"
        ):
            self.experts.add("selfhost_ops")
            return 0, "imported 40 posts\n"
        if command == f"podman exec {api} /bin/experts-panel index --expert selfhost_ops":
            return 0, ""
        if command == f"podman exec {api} /bin/experts-panel experts remove selfhost_ops --yes":
            self.experts.discard("selfhost_ops")
            return 0, ""
        if command == (
            "ls -1 \"$(podman volume inspect --format '{{.Mountpoint}}' experts-panel-backups)\""
        ):
            return 0, "".join(f"{name}\n" for name in sorted(self.backups))
        match = re.fullmatch(
            rf"{HOME}/\.local/lib/experts-panel/experts-panel-restore (\S+)", command
        )
        if match:
            if match[1] not in self.backups:
                return 1, ""
            if not self.faults.restore_loses_expert:
                self.experts = set(self.backups[match[1]])
            self.api_pid += 1
            return 0, ""
        if command == f"{HOME}/.local/lib/experts-panel/experts-panel-certbot --force-renewal":
            if not self.faults.renewal_keeps_serial:
                self.serial += 1
            return 0, ""
        if command == f"podman inspect --format '{{{{.State.Pid}}}}' {api}":
            return 0, f"{self.api_pid}\n"
        if command == f"podman kill --signal KILL {api}":
            if not self.faults.api_stays_dead:
                self.api_pid += 7  # systemd restarts the container: a new process
            return 0, ""
        match = re.fullmatch(
            rf"test \"\$\(podman inspect --format '{{{{\.State\.Pid}}}}' {api}\)\" != (\d+)",
            command,
        )
        if match:
            return (0, "") if str(self.api_pid) != match[1] else (1, "")
        return None

    def _client(self, command: str) -> tuple[int, str] | None:
        https = f"https://{DOMAIN}"
        pebble = "--cacert /tmp/pebble-root.pem"
        served = f"openssl s_client -connect {DOMAIN}:443 -servername {DOMAIN}"
        served += " </dev/null 2>/dev/null"
        if command == f"curl -fsS -k {https}/health":
            return (0, '{"status":"ok"}') if self._stack_up() else (7, "")
        if command == f"curl -fsS {https}/health":
            trusted = self.faults.placeholder_trusted and self.certificate == "placeholder"
            return (0, '{"status":"ok"}') if trusted else (60, "")
        if command == f"curl -fsS https://{CA_DOMAIN}:15000/roots/0 > /tmp/pebble-root.pem":
            self.client_files.add("/tmp/pebble-root.pem")
            return 0, ""
        if command == f"curl -fsS {pebble} {https}/health":
            ok = self.certificate == "pebble" and "/tmp/pebble-root.pem" in self.client_files
            return (0, '{"status":"ok"}') if ok and self._stack_up() else (60, "")
        if command == f"{served} | openssl x509 -noout -issuer":
            issuer = self.faults.issuer if self.certificate == "pebble" else f"CN = {DOMAIN}"
            return 0, f"issuer={issuer}\n"
        if command == f"{served} | openssl x509 -noout -serial":
            return 0, f"serial={self.serial:X}\n"
        match = re.fullmatch(
            rf"test \"\$\({re.escape(served)} \| openssl x509 -noout -serial\)\" != (\S+)", command
        )
        if match:
            return (0, "") if f"serial={self.serial:X}" != shlex.split(match[1])[0] else (1, "")
        redirect = "curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "
        if command == f"{redirect}http://{DOMAIN}/some/page":
            return 0, self.faults.redirect
        if command == f"curl -fsS {pebble} {https}/api/v1/experts":
            return 0, json.dumps([{"id": expert} for expert in sorted(self.experts)])
        match = re.fullmatch(r"cp (\S+) (/tmp/[a-z-]+\.py)(?: && rm -f /tmp/stop)?", command)
        if match:
            if self.files.get(match[1]) != match[2].removeprefix("/tmp/"):
                return 1, ""
            self.client_files.add(match[2])
            self.client_files.discard("/tmp/stop")
            return 0, ""
        if command == f"python3 /tmp/sse-probe.py {https}/api/v1/query /tmp/pebble-root.pem":
            if "/tmp/sse-probe.py" not in self.client_files:
                return 2, ""
            kinds = ["start", "expert_started", "expert_answer", "synthesis", "complete"]
            times = [0.02] * 5 if self.faults.buffered_stream else [0.02, 0.3, 2.1, 2.4, 2.5]
            return 0, json.dumps([[t, kind] for t, kind in zip(times, kinds, strict=True)])
        if command == (
            "systemd-run --unit=load-probe --property=StandardOutput=file:/tmp/load.json"
            f" python3 /tmp/load-probe.py {https}/health /tmp/pebble-root.pem"
        ):
            self.probe_running = "/tmp/load-probe.py" in self.client_files
            return (0, "") if self.probe_running else (1, "")
        if command == "sleep 2":
            return 0, ""
        if command == "touch /tmp/stop":
            self.probe_running = False
            self.client_files.add("/tmp/stop")
            return 0, ""
        if command == "systemctl is-active load-probe.service":
            return (0, "active\n") if self.probe_running else (3, "inactive\n")
        if command == "cat /tmp/load.json":
            failed = self.faults.failed_requests
            return 0, json.dumps({"ok": 57 - failed, "failed": failed})
        return None
