"""Oversized and malformed requests against a live `archive serve`: what they cost the server.

Loads the demo into a fresh data dir, starts `archive serve` with its own temp directory, and
sends, one at a time, the requests an attacker (or a broken client) sends: a 200 MB multipart
upload and a 300 MB JSON sign-in body without credentials, chunked bodies without a length, a 1 MB
field that a 422 could echo back, a lone UTF-16 surrogate in JSON, a Range header of 5,000 digits,
and a page image of a 300 × 17,000 pt PDF page. While each runs, the server's RSS and the largest
file in its temp directory are sampled every 20 ms. Prints one row per request; the last line is
JSON: {"peak_rss_mb", "max_tmp_mb", "5xx", …} (peak_rss_mb is growth over the idle server).

Targets: RSS growth < 100 MB, temp files < 1 MB for unauthenticated requests, no 5xx.

    .venv/bin/python bench/abuse.py
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.demo import DEMO_CASE_NO, DEMO_PASSWORD  # noqa: E402
from tests.conftest import BIN, cli_env, run_cli  # noqa: E402
from tests.support.browser import free_port  # noqa: E402

MB = 1024 * 1024


def _chunks(total: int, head: bytes = b"", tail: bytes = b"", block: bytes = b"A" * MB) -> Iterator[bytes]:
    yield head
    sent = 0
    while sent < total:
        piece = block[: min(len(block), total - sent)]
        sent += len(piece)
        yield piece
    yield tail


class Watch:
    """Samples the server's RSS and its temp directory's largest file while a request runs."""

    def __init__(self, pid: int, tmp: Path) -> None:
        self.proc, self.tmp = psutil.Process(pid), tmp
        self.rss = self.peak = self.proc.memory_info().rss
        self.biggest = 0
        self._stop = threading.Event()

    def _largest(self) -> int:
        sizes = [0]
        for root, _, files in os.walk(self.tmp):
            for f in files:
                with contextlib.suppress(OSError):  # a temp file may go while we look
                    sizes.append(os.path.getsize(os.path.join(root, f)))
        return max(sizes)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self.biggest = max(self.biggest, self._largest())
            time.sleep(0.02)

    def __enter__(self) -> Watch:
        self.rss = self.peak = self.proc.memory_info().rss
        self.biggest = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _tall_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(300, 17000))
    c.drawString(20, 16900, "strip")
    c.showPage()
    c.save()
    return path


def _guess(client: httpx.Client, name: str, tries: int) -> httpx.Response:
    """``tries`` wrong passwords for ``name`` from one address; the last answer."""
    answers = [
        client.post("/api/v1/auth/token", json={"username": name, "password": "wrong-password"})
        for _ in range(tries)
    ]
    return answers[-1]


def _owner(base: str) -> httpx.Response:
    """The account's owner from another loopback address, after the name's short rest."""
    with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
        first = other.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})
        if first.status_code != 429:
            return first
        time.sleep(float(first.headers.get("retry-after", "1")) + 0.05)
        return other.post("/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})


def main() -> None:
    """Start the server, send each request, print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp_s:
        tmp = Path(tmp_s)
        data, server_tmp = tmp / "var", tmp / "server-tmp"
        server_tmp.mkdir()
        assert run_cli(["demo"], data).returncode == 0
        port = free_port()
        env = cli_env(data, TMPDIR=str(server_tmp))
        log = (tmp / "serve.log").open("wb")
        proc = subprocess.Popen(
            [str(BIN / "archive"), "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            client = httpx.Client(base_url=base, timeout=600)
            token = client.post(
                "/api/v1/auth/token", json={"username": "archivist", "password": DEMO_PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            tall = _tall_pdf(tmp / "tall.pdf")
            with tall.open("rb") as fh:
                r = client.post(
                    f"/api/v1/cases/{quote(DEMO_CASE_NO)}/records",
                    files={"file": ("tall.pdf", fh, "application/pdf")},
                    headers={**auth, "X-CSRF-Token": "x"},
                )
            tall_id = r.json().get("record_id") if r.status_code < 300 else None
            for _ in range(100):
                if tall_id is None:
                    break
                if (
                    client.get(f"/api/v1/records/{tall_id}/status", headers=auth).json().get("status")
                    == "processed"
                ):
                    break
                time.sleep(0.3)
            media = client.get("/api/v1/search", params={"q": "录音", "form": "音像"}, headers=auth).json()
            media_id = media["hits"][0]["record_id"] if media.get("hits") else 1
            boundary = "abuseboundary"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            tail = f"\r\n--{boundary}--\r\n".encode()
            big = 200 * MB
            cases: list[tuple[str, bool, Callable[[], httpx.Response]]] = [
                (
                    "multipart 200 MB, no credentials",
                    True,
                    lambda: client.post(
                        f"/api/v1/cases/{quote(DEMO_CASE_NO)}/records",
                        content=b"".join([head, b"A" * big, tail]),
                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                    ),
                ),
                (
                    "multipart 200 MB chunked, no length, no credentials",
                    True,
                    lambda: client.post(
                        f"/api/v1/cases/{quote(DEMO_CASE_NO)}/records",
                        content=_chunks(big, head, tail),
                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                    ),
                ),
                (
                    "JSON 300 MB to /auth/token",
                    True,
                    lambda: client.post(
                        "/api/v1/auth/token",
                        content=b'{"username": "' + b"A" * (300 * MB) + b'", "password": "x"}',
                        headers={"Content-Type": "application/json"},
                    ),
                ),
                (
                    "JSON 1 MB field (422 echo)",
                    True,
                    lambda: client.post("/api/v1/auth/token", json={"username": "A" * MB, "password": 1}),
                ),
                (
                    "lone surrogate in JSON",
                    True,
                    lambda: client.post(
                        "/api/v1/auth/token",
                        content=b'{"username": "\\ud800x", "password": "x"}',
                        headers={"Content-Type": "application/json"},
                    ),
                ),
                (
                    "Range of 5,000 digits",
                    False,
                    lambda: client.get(
                        f"/api/v1/records/{media_id}/media",
                        headers={**auth, "Range": "bytes=" + "9" * 5000 + "-"},
                    ),
                ),
                (
                    "page image of a 300 x 17,000 pt page",
                    False,
                    lambda: client.get(f"/api/v1/records/{tall_id}/pages/1", headers=auth),
                ),
                ("6 wrong passwords for admin (the 6th)", True, lambda: _guess(client, "admin", 6)),
                (
                    "6 wrong passwords for an unknown name (the 6th)",
                    True,
                    lambda: _guess(client, "nobody", 6),
                ),
                ("admin's right password from another address", True, lambda: _owner(base)),
                (
                    "forged X-Forwarded-For carrying a script",
                    True,
                    lambda: client.post(
                        "/api/v1/auth/token",
                        json={"username": "leader", "password": "wrong"},
                        headers={"X-Forwarded-For": "<script>alert(1)</script>"},
                    ),
                ),
            ]
            watch = Watch(proc.pid, server_tmp)
            rows = []
            print(f"{'request':52} {'status':>6} {'rss+MB':>7} {'tmpMB':>7} {'bytes out':>10}")
            for name, anonymous, send in cases:
                with watch:
                    try:
                        r = send()
                        status, size = r.status_code, len(r.content)
                    except httpx.HTTPError as exc:
                        status, size = 0, 0
                        name += f" ({type(exc).__name__})"
                growth = (watch.peak - watch.rss) / MB
                rows.append((name, anonymous, status, growth, watch.biggest / MB, size))
                print(f"{name:52} {status:6d} {growth:7.1f} {watch.biggest / MB:7.1f} {size:10d}")
            alive = client.get("/api/v1/health").status_code == 200
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        figures = {
            "peak_rss_mb": round(max(r[3] for r in rows), 1),
            "max_tmp_mb": round(max(r[4] for r in rows), 1),
            "max_tmp_mb_unauthenticated": round(max(r[4] for r in rows if r[1]), 1),
            "5xx": sum(1 for r in rows if r[2] >= 500),
            "statuses": {r[0]: r[2] for r in rows},
            "largest_answer_bytes": max(r[5] for r in rows),
            "server_alive": alive,
        }
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
