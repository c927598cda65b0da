"""Run one parse in a child process with a time limit and a memory limit.

A parser fed a bomb (a 30000×30000 PNG, a zip-bomb DOCX) or a native crash must not take the
worker down: the child is forked (cheap: modules are already imported) and sends back its result
or its error through a pipe. The parent watches the child's resident memory and the clock and
kills it past either limit. (An address-space rlimit cannot be used: the in-process Tika VM
reserves far more address space than it ever touches and refuses to start under one.)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.parsers.base import ParseError

T = TypeVar("T")


class LimitExceededError(ParseError):
    """The parse ran out of time or memory, or its process died."""


POLL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except ParseError as exc:
        result = ("parse_error", exc)  # the subclass (e.g. EncryptedError) travels too
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # report, never hang the parent
        result = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
    try:
        conn.send_bytes(pickle.dumps(result))
    except MemoryError:
        conn.send_bytes(pickle.dumps(("memory", None)))
    finally:
        conn.close()
        os._exit(0)  # skip atexit handlers inherited from the parent


def run_limited(fn: Callable[..., T], *args: Any, timeout_s: float, memory_mb: int) -> T:
    """``fn(*args)`` in a forked child; ParseError (or LimitExceededError) on failure."""
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, fn, args), daemon=True)
    proc.start()
    sender.close()
    deadline = time.monotonic() + timeout_s
    limit = memory_mb * 1024 * 1024
    try:
        while not receiver.poll(POLL_S):
            if memory_mb > 0 and proc.pid is not None and _rss_bytes(proc.pid) > limit:
                proc.kill()
                raise LimitExceededError(f"解析所需内存超过上限 {memory_mb} MB，已终止；原件已保存")
            if time.monotonic() > deadline:
                raise LimitExceededError(f"解析超时（超过 {int(timeout_s)} 秒），已终止；原件已保存")
            if not proc.is_alive() and not receiver.poll(0):
                break
        try:
            status, value = pickle.loads(receiver.recv_bytes())
        except EOFError:
            proc.join(5)
            code = proc.exitcode
            if code is not None and code < 0:
                name = signal.Signals(-code).name
                raise LimitExceededError(
                    f"解析进程异常退出（{name}），可能超出内存上限 {memory_mb} MB 或文件已损坏；原件已保存"
                ) from None
            raise LimitExceededError("解析进程异常退出；原件已保存") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()
    if status == "ok":
        return value
    if status == "parse_error":
        raise value
    if status == "memory":
        raise LimitExceededError(f"解析所需内存超过上限 {memory_mb} MB，已终止；原件已保存")
    raise RuntimeError(value)
