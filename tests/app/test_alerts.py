"""The alert rules: valid for promtool, each exercised by promtool's unit tests, and with the
same numbers as `experts-panel status` applies."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from experts_panel.observability import concerns

MONITORING = Path(__file__).parents[2] / "monitoring"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary is not None, (
        "promtool is not installed: `scripts/setup --test` installs Debian's prometheus package"
    )
    return subprocess.run(
        [binary, *args], cwd=MONITORING, capture_output=True, text=True, timeout=120
    )


def test_promtool_checks_the_rules() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_promtool_unit_tests_fire_each_alert_when_it_should() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    for alert in (
        "ExpertsPanelDown",
        "ExpertsPanelQueriesFailing",
        "ExpertsPanelBudgetNearlySpent",
        "ExpertsPanelNoVerifiedBackup",
        "ExpertsPanelCertificateExpiring",
    ):
        assert f"alertname: {alert}" in (MONITORING / "alerts_test.yml").read_text()


def test_status_applies_the_alerts_numbers() -> None:
    rules = (MONITORING / "alerts.yml").read_text(encoding="utf-8")
    assert re.search(r"limit_tokens\{[^}]*\} > 0\.8\b", rules)
    assert concerns.BUDGET_USED_RATIO == 0.8
    assert "> 48 * 3600" in rules and concerns.BACKUP_MAX_AGE_S == 48 * 3600
    assert 'days_left{job="experts-panel"} < 14' in rules
    assert concerns.CERTIFICATE_MIN_DAYS == 14
    assert "for: 2m" in rules and "[15m]" in rules and "> 0.1" in rules
