"""Imports between the packages go one way: the pipeline owns the model interface that `llm/`
implements, and only `model_setup` (and the API and CLI above it) joins the two."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import experts_panel

PACKAGE = Path(experts_panel.__file__).parent


def imported(module: Path) -> set[str]:
    """Every `experts_panel` module a file imports, relative imports resolved."""
    parts = list(module.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    else:
        parts.pop()  # a module's relative imports start from its package
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names.add(target)
            # `from package import module` imports the module; a name that is not one
            # stays under its module's prefix, so the checks below see it the same.
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "experts_panel" or n.startswith("experts_panel.")}


def offending(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for module in sorted((PACKAGE / package).rglob("*.py")):
        bad = sorted(
            name
            for name in imported(module)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if bad:
            found[str(module.relative_to(PACKAGE))] = bad
    return found


def test_the_helper_sees_imports_of_every_form() -> None:
    module = PACKAGE / "pipeline" / "runner.py"
    names = imported(module)
    assert "experts_panel.pipeline.expert_run" in names  # from experts_panel.pipeline.x import
    assert "experts_panel.pipeline.map" in names  # from experts_panel.pipeline import map
    assert "experts_panel.pipeline.budget" in names  # from experts_panel.pipeline import budget
    assert "experts_panel" in imported(PACKAGE / "demo" / "front_end.py")  # import experts_panel


def test_the_pipeline_never_imports_the_models_nor_what_is_built_on_it() -> None:
    forbidden = (
        "experts_panel.llm",
        "experts_panel.model_setup",
        "experts_panel.api",
        "experts_panel.cli",
    )
    assert offending("pipeline", forbidden) == {}


def test_llm_never_imports_the_pipeline_runner_nor_the_choice() -> None:
    # llm/ implements the pipeline's interface (pipeline/model.py, types.py, texts.py); the
    # runner and the choice of model sit above it.
    forbidden = (
        "experts_panel.pipeline.runner",
        "experts_panel.pipeline.expert_run",
        "experts_panel.model_setup",
        "experts_panel.api",
        "experts_panel.cli",
    )
    assert offending("llm", forbidden) == {}


def test_the_import_side_stands_below_the_query_side() -> None:
    forbidden = (
        "experts_panel.pipeline",
        "experts_panel.llm",
        "experts_panel.retrieval",
        "experts_panel.model_setup",
        "experts_panel.api",
        "experts_panel.cli",
        "experts_panel.posts",
    )
    assert offending("importing", forbidden) == {}


def test_the_parsing_process_starts_without_the_database_stack() -> None:
    # The parser runs in its own process per import; SQLAlchemy would add its import time
    # to every one. importing/__init__.py must stay free of imports for this.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, experts_panel.importing.parse_worker; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'fastapi', 'aiosqlite')))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert loaded == "[]"
