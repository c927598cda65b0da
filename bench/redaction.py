"""The redaction release gate on the leak corpus: what is released, what is blocked, what leaks,
and what the gate costs.

Builds the tests' leak corpus (tests/support/leak_corpus.py: 23 files — numbers split by line
wraps or written with separators and numerals, a scan with a text footer, a lying text layer,
invisible text over an image, photos, DOCX/XLSX, metadata and annotations, GB18030 text, spoken
numbers, controls) into a fresh archive, drives the 查阅 flow over HTTP (request → archivist
previews every record, a blocked recording is switched to its transcript only → review →
approval → the party opens and downloads every released record) and reads back every released
byte as a person would (OCR of every page and image, the sound in the spoken window, the raw
bytes, PDF text layer and metadata). Prints one row per file; the last line is JSON:
{"files", "released", "blocked", "leaks", "gate_s_per_page", "gate_rtf", …}.

The gate's cost is measured inside the gate (ReleaseCheck.seconds: OCR of every released page,
re-transcription of released sound, the text checks), on top of making the rendition itself.

    .venv/bin/python bench/redaction.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from archive.db import session_scope  # noqa: E402
from archive.models import ReleaseCheck  # noqa: E402
from tests.support.access import signed_in  # noqa: E402
from tests.support.leak_flow import leaks, make_world, run_flow  # noqa: E402


def main() -> None:
    """Run the corpus through the flow and print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-redaction-") as tmp:
        world = make_world(Path(tmp))
        started = time.monotonic()
        with signed_in(world.app, ["party", "archivist", "leader"]) as clients:
            flow = run_flow(world, clients)
        flow_s = time.monotonic() - started
        with session_scope(world.svc.engine) as s:
            checks = {(c.record_id, c.tag): c for c in s.scalars(select(ReleaseCheck))}
            s.expunge_all()
        found: list[str] = []
        head = f"{'file':36} {'verdict':6} {'released':8} {'pages':>5} {'audio_s':>7} {'gate_s':>7}"
        print(head + "  reason / leaks")
        for o in flow.outcomes:
            check = checks[(o.record_id, o.verdict["tag"])]
            mine = leaks(o)
            found += mine
            verdict = "pass" if o.verdict["passed"] else "block"
            released = ("text" if o.transcript_only else "yes") if o.released else "no"
            note = "; ".join(mine) or (o.verdict["reason"] or "")[:90]
            print(
                f"{o.file.name:36} {verdict:6} {released:8} {check.pages:5d} {check.audio_s:7.1f} "
                f"{check.seconds:7.2f}  {note}"
            )
        paged = [c for c in checks.values() if c.audio_s == 0 and c.pages]
        sound = [c for c in checks.values() if c.audio_s > 0]
        per_page = sum(c.seconds for c in paged) / max(1, sum(c.pages for c in paged))
        rtf = sum(c.seconds for c in sound) / max(1e-9, sum(c.audio_s for c in sound))
        figures = {
            "files": len(flow.outcomes),
            "released": sum(o.released for o in flow.outcomes),
            "released_transcript_only": sum(o.released and o.transcript_only for o in flow.outcomes),
            "blocked": sum(not o.released for o in flow.outcomes),
            "leaks": len(found),
            "gate_s_per_page": round(per_page, 3),
            "gate_rtf": round(rtf, 3),
            "gate_s_per_audio_minute": round(rtf * 60, 1),
            "pages_checked": sum(c.pages for c in checks.values()),
            "audio_s_checked": round(sum(c.audio_s for c in sound), 1),
            "ingest_s": round(world.ingest_s, 1),
            "flow_s": round(flow_s, 1),
            "cores": os.cpu_count(),
        }
        print(
            f"{figures['files']} files: {figures['released']} released, {figures['blocked']} blocked, "
            f"{figures['leaks']} leaks; gate {per_page:.2f} s/page, RTF {rtf:.2f} on sound",
            file=sys.stderr,
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
