"""Parses in a long-lived child process, each under a time limit and a memory limit.

A parser fed a bomb (a 30000×30000 PNG, a zip-bomb DOCX) or a native crash must not take the
worker down. Parses run in a forked child (`ParseWorker`) that serves one file after another
and keeps what it has loaded — the OCR engine, the Whisper model, Tika's VM — between files.
The parent watches the child's resident memory and the clock during each file and kills the
child past either limit, or finds it dead after a crash: that file fails with the reason and
the next file starts a fresh child. (An address-space rlimit cannot be used: the in-process
Tika VM reserves far more address space than it ever touches and refuses to start under one.)

A child is also replaced, between files, after ``max_calls`` files or when it holds more than
``recycle_mb`` once a file is done (memory a large file left behind must not count against the
next file's limit).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.parsers.base import ParseError

T = TypeVar("T")


class LimitExceededError(ParseError):
    """The parse ran out of time or memory, or its process died."""


POLL_S = 0.02
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PR_SET_PDEATHSIG = 1


def _resident_bytes(pid: int) -> int:
    """All the process's resident pages, shared ones included (cheap to read)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _private_bytes(pid: int) -> int | None:
    """The process's private resident pages (walks its page tables: ~1 ms), None if unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            private = sum(
                int(line.split()[1]) for line in f if line.startswith(("Private_Clean", "Private_Dirty"))
            )
        return private * 1024
    except (OSError, IndexError, ValueError):
        return None


def _over(pid: int, limit: int) -> bool:
    """Whether the memory the process holds on its own (private resident pages) exceeds ``limit``:
    pages it shares with the process it was forked from are not its parse's doing, and a child of
    a large process would otherwise start over its limit. Private pages are part of the resident
    ones, so the costly count is only made when the cheap one is over."""
    resident = _resident_bytes(pid)
    if resident <= limit:
        return False
    private = _private_bytes(pid)
    return resident > limit if private is None else private > limit


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when the thread that forked it ends (a SIGKILLed
    worker must not leave a parse running for minutes)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except ParseError as exc:
        result = ("parse_error", exc)  # the subclass (e.g. EncryptedError) travels too
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # report, never hang the parent
        result = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
    try:
        return pickle.dumps(result)
    except MemoryError:
        return pickle.dumps(("memory", None))
    except Exception as exc:  # an unpicklable result or error
        return pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))


def _serve(conn: Any, parent_pid: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops us
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(0)
    try:
        while True:
            try:
                call = conn.recv_bytes()
            except (EOFError, OSError):
                break  # the parent is gone or closed the pipe
            if not call:
                break  # asked to stop
            fn, args = pickle.loads(call)
            conn.send_bytes(_run(fn, args))
    finally:
        os._exit(0)  # skip atexit handlers inherited from the parent


class ParseWorker:
    """One long-lived parse process, started on first use and replaced when it must be."""

    def __init__(self, *, max_calls: int = 200, recycle_mb: int = 0) -> None:
        self.max_calls = max_calls
        self.recycle_mb = recycle_mb
        self.started = 0  # processes started so far
        self.calls = 0  # files served by the current process
        self._proc: Any = None
        self._conn: Any = None

    @property
    def pid(self) -> int | None:
        """The current child's pid, if one runs."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def _start(self) -> None:
        ctx = mp.get_context("fork")
        mine, theirs = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_serve, args=(theirs, os.getpid()), daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn, self.calls = proc, mine, 0
        self.started += 1

    def close(self) -> None:
        """Stop the child (it finishes nothing: call between files)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            conn.send_bytes(b"")
        proc.join(2)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        conn.close()

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            proc.kill()
            proc.join(5)
            conn.close()

    def call(self, fn: Callable[..., T], *args: Any, timeout_s: float, memory_mb: int) -> T:
        """``fn(*args)`` in the child; ParseError (or LimitExceededError) on failure."""
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        proc, conn = self._proc, self._conn
        try:
            conn.send_bytes(pickle.dumps((fn, args)))
        except (OSError, pickle.PicklingError, AttributeError, TypeError):
            self._kill()
            raise
        deadline = time.monotonic() + timeout_s
        limit = memory_mb * 1024 * 1024
        try:
            while not conn.poll(POLL_S):
                if memory_mb > 0 and _over(proc.pid, limit):
                    self._kill()
                    raise LimitExceededError(f"解析所需内存超过上限 {memory_mb} MB，已终止；原件已保存")
                if time.monotonic() > deadline:
                    self._kill()
                    raise LimitExceededError(f"解析超时（超过 {int(timeout_s)} 秒），已终止；原件已保存")
                if not proc.is_alive() and not conn.poll(0):
                    break
            status, value = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            proc.join(5)
            code = proc.exitcode
            self._kill()
            if code is not None and code < 0:
                name = signal.Signals(-code).name
                raise LimitExceededError(
                    f"解析进程异常退出（{name}），可能超出内存上限 {memory_mb} MB 或文件已损坏；原件已保存"
                ) from None
            raise LimitExceededError("解析进程异常退出；原件已保存") from None
        except BaseException:  # KeyboardInterrupt and the like: never leave a parse running
            self._kill()
            raise
        self.calls += 1
        too_big = self.recycle_mb > 0 and _over(proc.pid, self.recycle_mb * 1024 * 1024)
        if self.calls >= self.max_calls or too_big:
            self.close()
        if status == "ok":
            return value
        if status == "parse_error":
            raise value
        if status == "memory":
            raise LimitExceededError(f"解析所需内存超过上限 {memory_mb} MB，已终止；原件已保存")
        raise RuntimeError(value)


_local = threading.local()


def worker_for_thread(*, max_calls: int = 200, recycle_mb: int = 0) -> ParseWorker:
    """This thread's parse worker (threads of one process each get their own child)."""
    worker: ParseWorker | None = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = ParseWorker(max_calls=max_calls, recycle_mb=recycle_mb)
    worker.max_calls, worker.recycle_mb = max_calls, recycle_mb
    return worker


def run_limited(fn: Callable[..., T], *args: Any, timeout_s: float, memory_mb: int) -> T:
    """``fn(*args)`` in a child of its own, which then stops (a one-off parse)."""
    worker = ParseWorker(max_calls=1)
    try:
        return worker.call(fn, *args, timeout_s=timeout_s, memory_mb=memory_mb)
    finally:
        worker.close()
