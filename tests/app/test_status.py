"""`experts-panel status` against the running service: all well, an old backup, a certificate
about to expire, and a service that is not running."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import ServerFactory, cli_env, run_cli


def certificate(path: Path, days_left: float) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "panel.example.org")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def backup_status(path: Path, hours_ago: float, verified: bool = True) -> Path:
    finished = datetime.now(UTC) - timedelta(hours=hours_ago)
    path.write_text(
        json.dumps(
            {
                "finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "file": "experts-2026-01-01T00-00-00Z.db.zst",
                "size_bytes": 12345,
                "verified": verified,
            }
        ),
        encoding="utf-8",
    )
    return path


def status(db: Path, port: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = cli_env(
        db,
        API_HOST="127.0.0.1",
        API_PORT=port,
        BACKUP_STATUS_FILE=str(tmp_path / "last-backup.json"),
        TLS_CERT_FILE=str(tmp_path / "fullchain.pem"),
    )
    done = run_cli("status", *args, env=env)
    assert not done.stderr, done.stderr
    return done.returncode, done.stdout


def test_status_all_well_then_an_old_backup_then_a_stopped_service(
    demo_path: Path, server_factory: ServerFactory, tmp_path: Path
) -> None:
    certificate(tmp_path / "fullchain.pem", days_left=60)
    backup_status(tmp_path / "last-backup.json", hours_ago=3)
    server = server_factory(demo_path)
    port = server.url.rsplit(":", 1)[1]

    code, out = status(demo_path, port, tmp_path)
    assert code == 0, out
    assert "health       healthy" in out and "provider     not_configured" in out
    assert "backup       3.0 h ago, 12,345 bytes, verified" in out
    assert "certificate  expires" in out and "(in 60 days)" in out
    assert "expert       selfhost_ops:" in out and "posts" in out
    assert out.rstrip().endswith("all is well")

    code, out = status(demo_path, port, tmp_path, "--json")
    report: dict[str, Any] = json.loads(out)
    assert code == 0 and report["exit_code"] == 0 and report["concerns"] == []
    assert report["health"]["status"] == "healthy"
    assert report["tokens"] == {"used": 0, "limit": 2_000_000, "left": 2_000_000}
    assert report["backup"]["verified"] is True and report["backup"]["size_bytes"] == 12345
    assert 59 < report["certificate"]["days_left"] <= 60
    experts = {e["id"]: e for e in report["experts"]}
    assert experts["selfhost_ops"]["posts"] > 0 and experts["selfhost_ops"]["newest_post_at"]

    backup_status(tmp_path / "last-backup.json", hours_ago=50)
    certificate(tmp_path / "fullchain.pem", days_left=10)
    code, out = status(demo_path, port, tmp_path)
    assert code == 1, out
    assert "needs the operator:" in out
    assert "the last verified backup is 50 hours old" in out
    assert "the certificate expires in 10.0 days" in out

    (tmp_path / "last-backup.json").unlink()
    code, out = status(demo_path, port, tmp_path, "--json")
    report = json.loads(out)
    assert code == 1 and report["backup"]["verified"] is False
    assert any(
        c.startswith("no verified backup: no backup recorded yet") for c in report["concerns"]
    )

    server.stop()
    code, out = status(demo_path, port, tmp_path)
    assert code == 2
    assert out.startswith("cannot tell: the service does not answer at http://127.0.0.1:")
    code, out = status(demo_path, port, tmp_path, "--json")
    assert code == 2 and json.loads(out)["exit_code"] == 2
