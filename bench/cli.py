"""Start-up of the `archive` command: `archive --help` and `archive search 报警装置 --json`, wall
time (median of several runs), for this tree and, side by side in the same run, for an earlier
release (a git worktree of ``--before``, default the release before the lazy imports).

    .venv/bin/python bench/cli.py [--runs 7] [--before 63f73b1]

Prints figures; the last line is one JSON object {"help_s", "search_s", "before": {...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
QUERY = "报警装置"


def _env(data: Path, code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(ARCHIVE_DATA_DIR=str(data), PYTHONPATH=str(code))
    return env


def _archive(code: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`archive ARGS` as the tree at ``code`` runs it (its own ui.cli, this interpreter)."""
    run = f"import sys; sys.argv = ['archive', *{list(args)!r}]; from ui.cli import main; main()"
    return subprocess.run(
        [str(PYTHON), "-c", run], env=_env(data, code), cwd=code, capture_output=True, text=True, timeout=600
    )


def _which_tree(code: Path, data: Path) -> Path:
    out = subprocess.run(
        [str(PYTHON), "-c", "import ui.cli; print(ui.cli.__file__)"],
        env=_env(data, code),
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip()).resolve().parent.parent


def _median_s(code: Path, data: Path, runs: int, *args: str) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = _archive(code, data, *args)
        times.append(time.perf_counter() - t0)
        if res.returncode != 0:
            raise SystemExit(f"`archive {' '.join(args)}` failed in {code}: {res.stderr[-2000:]}")
    return round(statistics.median(times), 3)


def _data(work: Path) -> Path:
    """A small archive: a few inspection notes, ingested and indexed by this tree."""
    docs = work / "docs"
    docs.mkdir()
    for i in range(1, 21):
        (docs / f"检查记录{i}.txt").write_text(
            f"现场检查记录第{i}份：消防报警装置未保持完好有效，责令限期整改。\n", encoding="utf-8"
        )
    data = work / "var"
    res = _archive(ROOT, data, "ingest", str(docs), "--json")
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    return data


def _before_tree(work: Path, rev: str) -> Path:
    tree = work / "before"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        capture_output=True,
    )
    return tree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--before", default="63f73b1", help="the earlier release to compare with (a git revision)"
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    before = None
    try:
        data = _data(work)
        before = _before_tree(work, args.before)
        out: dict[str, object] = {}
        for label, code in (("now", ROOT), ("before", before)):
            tree = _which_tree(code, data)
            assert tree == code.resolve(), f"{label} ran {tree}, not {code}"
            _archive(code, data, "search", QUERY, "--json")  # first run: caches, page cache
            figures = {
                "help_s": _median_s(code, data, args.runs, "--help"),
                "search_s": _median_s(code, data, args.runs, "search", QUERY, "--json"),
            }
            print(
                f"{label:6} ({args.before if label == 'before' else 'this tree'}): "
                f"archive --help {figures['help_s']:.2f} s, archive search {figures['search_s']:.2f} s "
                f"(median of {args.runs})"
            )
            if label == "now":
                out.update(figures)
            else:
                out["before"] = figures
        out["runs"] = args.runs
        out["cpus"] = os.cpu_count()
        print(json.dumps(out, ensure_ascii=False))
    finally:
        if before is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True
            )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
