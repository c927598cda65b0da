"""The long-lived parse process: files one after another in one process, each under its limits;
past a limit (or after a crash) that file fails and the next gets a fresh process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.isolation import LimitExceededError, ParseWorker, run_limited, worker_for_thread
from pipelines.parsers.base import EncryptedError

_held: list[bytes] = []  # memory a "file" leaves behind in the parse process
_served = 0


def _pid_and_count() -> tuple[int, int]:
    global _served
    _served += 1
    return os.getpid(), _served


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _allocate(mb: int, keep: bool = False) -> int:
    block = bytearray(mb * 1024 * 1024)
    for i in range(0, len(block), 4096):  # touch every page: resident, not just reserved
        block[i] = 1
    if keep:
        _held.append(bytes(block))
    time.sleep(0.5)  # long enough for the parent to see it
    return os.getpid()


def _segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _encrypted() -> None:
    raise EncryptedError("PDF 已加密：请提供未加密的文件")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] not in {"Z", "X"}


@pytest.fixture
def worker() -> Iterator[ParseWorker]:
    w = ParseWorker(max_calls=100)
    yield w
    w.close()


def test_one_process_serves_file_after_file_and_keeps_its_state(worker: ParseWorker) -> None:
    served = [worker.call(_pid_and_count, timeout_s=10, memory_mb=0) for _ in range(5)]
    assert {pid for pid, _ in served} == {worker.pid}
    assert worker.pid != os.getpid()
    assert [n for _, n in served] == [1, 2, 3, 4, 5]  # what it loaded stays loaded
    assert worker.started == 1


def test_a_parse_past_its_time_is_killed_and_the_next_file_gets_a_fresh_process(worker: ParseWorker) -> None:
    first = worker.call(_sleep, 0, timeout_s=10, memory_mb=0)
    t0 = time.monotonic()
    with pytest.raises(LimitExceededError, match="解析超时（超过 1 秒）"):
        worker.call(_sleep, 30, timeout_s=1, memory_mb=0)
    assert time.monotonic() - t0 < 5
    assert not _alive(first)
    second = worker.call(_sleep, 0, timeout_s=10, memory_mb=0)
    assert second != first and worker.started == 2


def test_a_parse_past_its_memory_is_killed_and_the_next_file_is_parsed(worker: ParseWorker) -> None:
    with pytest.raises(LimitExceededError, match="内存超过上限 300 MB"):
        worker.call(_allocate, 600, timeout_s=30, memory_mb=300)
    assert worker.call(_allocate, 10, timeout_s=30, memory_mb=300) == worker.pid
    assert worker.started == 2


def test_a_crashing_parser_fails_its_file_only(worker: ParseWorker) -> None:
    with pytest.raises(LimitExceededError, match="SIGSEGV"):
        worker.call(_segfault, timeout_s=10, memory_mb=0)
    pid, _ = worker.call(_pid_and_count, timeout_s=10, memory_mb=0)
    assert pid == worker.pid and worker.started == 2


def test_parse_errors_travel_with_their_kind_and_the_process_stays(worker: ParseWorker) -> None:
    pid, _ = worker.call(_pid_and_count, timeout_s=10, memory_mb=0)
    with pytest.raises(EncryptedError, match="已加密"):
        worker.call(_encrypted, timeout_s=10, memory_mb=0)
    assert worker.pid == pid and worker.started == 1


def test_replaced_after_max_files_and_when_a_file_left_too_much_behind() -> None:
    w = ParseWorker(max_calls=2)
    try:
        pids = [w.call(_sleep, 0, timeout_s=10, memory_mb=0) for _ in range(4)]
        assert pids[0] == pids[1] != pids[2] == pids[3]
    finally:
        w.close()
    w = ParseWorker(max_calls=100, recycle_mb=150)
    try:
        big = w.call(_allocate, 300, True, timeout_s=30, memory_mb=0)  # keeps 300 MB
        assert not _alive(big)  # replaced between files, not during the next one
        after = w.call(_sleep, 0, timeout_s=10, memory_mb=0)
        assert after != big and w.started == 2
    finally:
        w.close()


def test_each_thread_has_its_own_worker_and_run_limited_leaves_none_behind() -> None:
    import threading

    mine = worker_for_thread()
    other: list[ParseWorker] = []
    t = threading.Thread(target=lambda: other.append(worker_for_thread()))
    t.start()
    t.join()
    assert worker_for_thread() is mine and other[0] is not mine
    pid = run_limited(_sleep, 0, timeout_s=10, memory_mb=0)
    time.sleep(0.2)
    assert not _alive(pid)


def test_a_parse_process_dies_with_its_sigkilled_worker(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
        from pipelines.isolation import ParseWorker
        from tests.test_isolation import _sleep
        w = ParseWorker()
        w.call(_sleep, 0, timeout_s=10, memory_mb=0)
        open({str(pid_file)!r}, "w").write(str(w.pid))
        w.call(_sleep, 120, timeout_s=300, memory_mb=0)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        child = int(pid_file.read_text())
        assert _alive(child)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)  # not left parsing for minutes
    finally:
        proc.kill()


def _models_held() -> tuple[int, list[int]]:
    from pipelines.media import transcribe

    return os.getpid(), [id(t) for t in transcribe._shared.values()]


def test_recordings_in_one_parse_process_share_one_loaded_model(tmp_path: Path) -> None:
    """Whisper loads once per parse process, not once per recording. Run from a fresh process,
    as the queue's workers are: forking a process that already runs a speech model's threads
    (this test runner, after other tests) can copy a held lock into the child."""
    from tests.support.media import speech_wav

    clips = [tmp_path / "a.wav", tmp_path / "b.wav"]
    speech_wav(clips[0], "yi1 er4 san1 si4 wu3")
    speech_wav(clips[1], "liu4 qi1 ba1 jiu3 shi2")
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
        from pathlib import Path
        from pipelines.detect import detect_mime
        from pipelines.isolation import ParseWorker
        from pipelines.parsers import ParseContext, parse_file
        from tests.test_isolation import _models_held
        w = ParseWorker()
        held = []
        for clip in {[str(c) for c in clips]!r}:
            ctx = ParseContext(mime=detect_mime(Path(clip)))
            result = w.call(parse_file, Path(clip), ctx, timeout_s=300, memory_mb=0)
            assert result.transcript is not None
            held.append(w.call(_models_held, timeout_s=10, memory_mb=0))
        print(json.dumps({{"held": held, "started": w.started}}))
        w.close()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    (pid_a, models_a), (pid_b, models_b) = out["held"]
    assert pid_a == pid_b and out["started"] == 1
    assert len(models_a) == 1 and models_a == models_b  # the same model object both times


def test_memory_shared_with_a_large_parent_does_not_count_against_a_parse() -> None:
    """The limit is the parse's own memory: a worker forked from a large process (a test runner,
    a server holding caches) does not start over it."""
    ballast = bytearray(600 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    w = ParseWorker()
    try:
        assert w.call(_allocate, 10, timeout_s=30, memory_mb=300) == w.pid
        with pytest.raises(LimitExceededError, match="内存超过上限 300 MB"):
            w.call(_allocate, 400, timeout_s=30, memory_mb=300)
    finally:
        w.close()
        del ballast
