"""Mutation testing (mutmut 3): can the tests fail? On demand only (`make mutation`), never in CI.

For each target below, mutmut copies the packages into ``mutants/<target>/mutants/``, mutates
only the target's file(s) and runs, for every mutant, the selected tests that call the mutated
function (mutmut finds which by running them once). A mutant is *killed* when a test fails.
Printed per module: mutants, killed, survived (a mutant that no selected test reaches counts as
survived: it is ``no_tests`` too), timeouts and suspicious ones if any, and the score
killed / (killed + survived). The last line is one JSON object with the figures.

Each target runs in a directory of its own (``mutants/<slug>``) with its own ``pyproject.toml``:
this file's table for ``[tool.mutmut]`` appended to the project's. The tests are fast unit-level
ones; tests that start the ``archive`` command in a subprocess are left out (the subprocess
imports the installed code, never a mutant, so it cannot kill one and only costs time), and so
are the ``slow``, ``browser``, ``postgres`` and ``s3`` tests. docs/mutation.md has the figures.

    .venv/bin/python bench/mutation.py                 # every target, from scratch
    .venv/bin/python bench/mutation.py --only audit    # one target (a name below)
    .venv/bin/python bench/mutation.py --keep          # reuse mutants/ (mutmut resumes)
    .venv/bin/python bench/mutation.py --survivors     # also list every surviving mutant
    .venv/bin/python bench/mutation.py --only redaction --retest-survivors   # after adding tests
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"
PACKAGES = ("archive", "pipelines", "indexer", "search_api", "ui")
MAX_CHILDREN = 2  # the machine has 2 cores
MARKERS = "not slow and not browser and not postgres and not s3"
KEPT = ("killed", "timeout")  # verdicts --retest-survivors keeps


@dataclass(frozen=True)
class Target:
    """One mutmut run: the files to mutate and the tests that may kill their mutants."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()
    # only the mutants of these functions ("name" or "Class.method") are run and counted; all if empty
    functions: tuple[str, ...] = ()

    def patterns(self) -> list[str]:
        """mutmut's names for the mutants of ``functions`` (globs), or [] for every mutant."""
        out = []
        for path in self.files:
            module = path.removesuffix(".py").replace("/", ".")
            for fn in self.functions:
                cls, _, name = fn.rpartition(".")
                out.append(f"{module}.xǁ{cls}ǁ{name}__mutmut_*" if cls else f"{module}.x_{name}__mutmut_*")
        return out


TARGETS: dict[str, Target] = {
    "workdays": Target(
        files=("archive/workdays.py",),
        tests=("tests/test_workdays.py", "tests/test_rules.py"),
    ),
    "compliance": Target(
        files=("archive/compliance/engine.py", "archive/compliance/rulebook.py"),
        # tests/test_compliance.py is left out: its module fixture runs `archive demo` in a
        # subprocess (about 20 s for every mutant) and its checks run the installed code
        tests=("tests/test_rules.py", "tests/test_workdays.py", "tests/test_mutation_kills_compliance.py"),
    ),
    "audit": Target(
        files=("archive/audit.py",),
        tests=("tests/test_audit.py", "tests/test_mutation_kills_audit.py"),
        deselect=("tests/test_audit.py::test_cli_verify_reports_ok_then_the_broken_link",),
    ),
    "pii": Target(
        files=("pipelines/pii.py",),
        tests=("tests/test_pii.py", "tests/test_mutation_kills_pii.py"),
    ),
    "redaction": Target(
        files=tuple(f"pipelines/redaction/{m}.py" for m in ("common", "text", "imagepdf", "boxes", "pdf")),
        tests=("tests/test_redaction.py", "tests/test_mutation_kills_redaction.py"),
        # the text, PDF and OCR-box functions (the whole file is too slow to mutate here): not the
        # image, watermark, rendition-page or audio (bleep) functions
        functions=(
            "_merged",
            "redact_text",
            "page_spans",
            "_wanted",
            "_align",
            "_ImagePdf.__init__",
            "_ImagePdf._obj",
            "_ImagePdf.add_page",
            "_ImagePdf.close",
            "_OcrLayout.text",
            "_box",
            "_ocr_layout",
            "_ocr_span_boxes",
            "_fill",
            "_burn_ocr",
            "_black_page",
            "_open_pdf",
            "_page_scale",
            "_normalise",
            "_text_layer_boxes",
            "_ocr_of",
            "_refuse",
            "_redact_pdf_page",
            "_read_pdf_page",
            "redact_pdf",
            "_redact_pdf_locked",
        ),
    ),
    "access": Target(
        files=("archive/access.py",),
        # tests/test_access.py is all `slow`: its module fixture builds a whole demo archive
        tests=("tests/test_mutation_kills_access.py",),
    ),
}


def _toml_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def mutmut_table(target: Target) -> str:
    """The ``[tool.mutmut]`` table for one target (mutmut reads it from the working directory)."""
    selection = [t for t in target.tests if (ROOT / t).exists()]
    pytest_args = ["-p", "no:cacheprovider", "-m", MARKERS]
    for node in target.deselect:
        pytest_args += ["--deselect", node]
    lines = [
        "",
        "[tool.mutmut]",
        f"source_paths = {_toml_list(list(PACKAGES))}",
        f"only_mutate = {_toml_list(target.files)}",
        f"pytest_add_cli_args_test_selection = {_toml_list(selection)}",
        f"pytest_add_cli_args = {_toml_list(pytest_args)}",
        # a mutant that loops is stopped after 10 × (its tests' CPU time + 1 s)
        "timeout_multiplier = 5.0",
        "use_git_change_detection = false",
        "",
    ]
    return "\n".join(lines)


def prepare(name: str, target: Target, keep: bool) -> Path:
    """``mutants/<name>``: links to the packages and tests, and a pyproject.toml for mutmut."""
    work = WORK / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for entry in (*PACKAGES, "tests"):
        link = work / entry
        if not link.is_symlink():
            link.symlink_to(ROOT / entry, target_is_directory=True)
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(project + mutmut_table(target), encoding="utf-8")
    if keep:  # mutmut copies a package file only once: refresh the copies of files not mutated
        for package in PACKAGES:
            for src in (ROOT / package).rglob("*.py"):
                rel = src.relative_to(ROOT)
                copy = work / "mutants" / rel
                if str(rel) not in target.files and copy.exists():
                    shutil.copy2(src, copy)
    return work


def status_of(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[code])


def figures(work: Path, path: str, target: Target) -> tuple[dict[str, int | float], list[str]]:
    """Counts for one mutated file from mutmut's meta file, and the names of its survivors."""
    meta = json.loads((work / "mutants" / (path + ".meta")).read_text(encoding="utf-8"))
    patterns = target.patterns()
    codes = {
        key: code
        for key, code in meta["exit_code_by_key"].items()
        if not patterns or any(fnmatch.fnmatchcase(key, p) for p in patterns)
    }
    counts: dict[str, int] = {}
    survivors: list[str] = []
    for key, code in sorted(codes.items()):
        status = status_of(code)
        counts[status] = counts.get(status, 0) + 1
        if status in ("survived", "no tests"):
            survivors.append(f"{key}: {status}")
    killed = counts.pop("killed", 0)
    survived = counts.pop("survived", 0)
    no_tests = counts.pop("no tests", 0)
    timeout = counts.pop("timeout", 0)
    suspicious = counts.pop("suspicious", 0)
    out: dict[str, int | float] = {
        "mutants": len(codes),
        "killed": killed,
        "survived": survived + no_tests,
    }
    if no_tests:
        out["no_tests"] = no_tests
    if timeout:
        out["timeout"] = timeout
    if suspicious:
        out["suspicious"] = suspicious
    for status, n in sorted(counts.items()):
        out[status.replace(" ", "_")] = n
    tested = killed + survived + no_tests
    out["score"] = round(killed / tested, 4) if tested else 0.0
    return out, survivors


def _meta(work: Path, path: str) -> tuple[Path, dict[str, Any]]:
    meta = work / "mutants" / (path + ".meta")
    return meta, json.loads(meta.read_text(encoding="utf-8"))


def run_target(name: str, target: Target, keep: bool, retest: bool) -> float:
    """Run mutmut for one target; with ``retest``, only on the mutants the last run did not kill.

    A mutant killed before stays killed when tests are only added (and one that hung still
    hangs), so ``retest`` keeps those verdicts (mutmut resets every verdict when the test
    selection changes: they are put back).
    """
    work = prepare(name, target, keep or retest)
    names = target.patterns()
    before: dict[str, dict[str, Any]] = {}
    if retest:
        patterns = names or ["*"]
        for path in target.files:
            before[path] = _meta(work, path)[1]["exit_code_by_key"]
        names = [
            key
            for codes in before.values()
            for key, code in sorted(codes.items())
            if status_of(code) not in KEPT and any(fnmatch.fnmatchcase(key, p) for p in patterns)
        ]
        if not names:
            return 0.0
    mutmut = Path(sys.executable).with_name("mutmut")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "MUTANT_"))}
    started = time.monotonic()
    with (work / "mutmut.log").open("wb") as log:
        done = subprocess.run(
            [str(mutmut), "run", "--max-children", str(MAX_CHILDREN), *names],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    took = time.monotonic() - started
    if done.returncode != 0:
        tail = (work / "mutmut.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        sys.exit(f"mutmut failed for {name} (exit {done.returncode}); the end of {work}/mutmut.log:\n{tail}")
    for path, codes in before.items():
        meta_path, meta = _meta(work, path)
        now = meta["exit_code_by_key"]
        for key, code in codes.items():
            if status_of(code) in KEPT and key in now and now[key] is None:
                now[key] = code
        meta_path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="run only this target")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/<target> (mutmut resumes)")
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="run again only the mutants the last run did not kill (after tests were added)",
    )
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    parser.add_argument("--report", action="store_true", help="do not run: report the last results")
    args = parser.parse_args()
    os.chdir(ROOT)
    modules: dict[str, dict[str, int | float]] = {}
    started = time.monotonic()
    for name in args.only or list(TARGETS):
        target = TARGETS[name]
        took = 0.0 if args.report else run_target(name, target, args.keep, args.retest_survivors)
        for path in target.files:
            out, survivors = figures(WORK / name, path, target)
            modules[path] = out
            extra = "".join(
                f", {k} {v}" for k, v in out.items() if k not in ("mutants", "killed", "survived", "score")
            )
            print(
                f"{path}: {out['mutants']} mutants, {out['killed']} killed, {out['survived']} survived"
                f"{extra}; score {out['score']:.1%}" + (f" ({name}: {took:.0f} s)" if took else ""),
                flush=True,
            )
            if args.survivors:
                for line in survivors:
                    print(f"    {line}")
    killed = sum(int(m["killed"]) for m in modules.values())
    survived = sum(int(m["survived"]) for m in modules.values())
    overall = round(killed / (killed + survived), 4) if killed + survived else 0.0
    took = time.monotonic() - started
    print(f"overall: {killed} killed, {survived} survived, score {overall:.1%}; {took:.0f} s")
    print(json.dumps({"modules": modules, "score": overall}, ensure_ascii=False))


if __name__ == "__main__":
    main()
