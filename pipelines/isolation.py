"""Run one parse in a child process with a time limit and a memory limit.

A parser fed a bomb (a 30000×30000 PNG, a zip-bomb DOCX) or a native crash must not take the
worker down: the child is forked (cheap: modules are already imported), caps its own address
space, and sends back its result or its error through a pipe; the parent kills it at the deadline.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import resource
import signal
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.parsers.base import ParseError

T = TypeVar("T")


class LimitExceededError(ParseError):
    """The parse ran out of time or memory, or its process died."""


def _child(conn: Any, memory_mb: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except ParseError as exc:
        result = ("parse_error", str(exc))
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
    proc = ctx.Process(target=_child, args=(sender, memory_mb, fn, args), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise LimitExceededError(f"解析超时（超过 {int(timeout_s)} 秒），已终止；原件已保存")
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
        raise ParseError(value)
    if status == "memory":
        raise LimitExceededError(f"解析所需内存超过上限 {memory_mb} MB，已终止；原件已保存")
    raise RuntimeError(value)
