"""Processing uploads from the web off the request thread.

One feeder thread hands each batch of uploaded records to the configured task queue: the
embedded default's parser processes, or the Redis queue that `archive worker`s drain. The job
rows stay the source of truth, so a server that stops mid-batch resumes the same jobs on start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from archive.actor import Actor
from pipelines.compliance import refresh_stale
from pipelines.context import Services
from pipelines.queue import make_queue, resumable_record_ids, retry_processing

log = logging.getLogger(__name__)


class Background:
    """Runs processing jobs one batch at a time in a worker thread of this process."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="archive-processing")
        # Slow work asked for by a request that must not wait for it (a party's renditions).
        self._later = ThreadPoolExecutor(1, thread_name_prefix="archive-later")
        self._queued: set[str] = set()
        self._lock = threading.Lock()

    def later(self, key: str, work: Callable[[], None]) -> Future[None] | None:
        """Run ``work`` in the background once; while one with this key waits or runs, another is
        not queued (a party searching again does not pile up the same renditions)."""
        with self._lock:
            if key in self._queued:
                return None
            self._queued.add(key)

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("后台任务 %s 失败", key)
            finally:
                with self._lock:
                    self._queued.discard(key)

        return self._later.submit(run)

    def submit(self, record_ids: Sequence[int]) -> Future[None] | None:
        """Queue ``record_ids`` for processing (their job rows are already pending)."""
        ids = list(record_ids)
        return self._pool.submit(self._run, ids) if ids else None

    def retry(self, record_ids: Sequence[int], actor: Actor) -> list[int]:
        """Make the failed jobs of ``record_ids`` pending again (audited) and run them here; the
        ids that were reset (a record without a failed job is left as it is)."""
        reset, _ = retry_processing(self.svc, record_ids, actor)
        self.submit(reset)
        return reset

    def keep_findings_current(self, every_s: float = 600.0) -> threading.Thread:
        """Recompute, in a daemon thread every ``every_s`` seconds, the findings of cases not yet
        computed for the day (after midnight: every case once), so no page view has to."""

        def loop() -> None:
            while True:
                try:
                    refresh_stale(self.svc)
                except Exception:  # the next round tries again; a page recomputes what it needs
                    log.exception("合规检查的定时刷新失败")
                time.sleep(every_s)

        thread = threading.Thread(target=loop, name="archive-findings", daemon=True)
        thread.start()
        return thread

    def resume(self) -> Future[None] | None:
        """Pick up jobs a previous server left pending or running (crash recovery)."""
        return self.submit(resumable_record_ids(self.svc))

    def _run(self, ids: list[int]) -> None:
        try:
            make_queue(self.svc).run(ids)
        except Exception:  # the jobs stay pending: the next start or `archive ingest --resume` takes them
            log.exception("后台处理中断，记录 %s 将在下次启动时继续处理", ids)
