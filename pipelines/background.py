"""Processing uploads from the web off the request thread.

One feeder thread hands each batch of uploaded records to the configured task queue: the
embedded default's parser processes, or the Redis queue that `archive worker`s drain. The job
rows stay the source of truth, so a server that stops mid-batch resumes the same jobs on start.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from pipelines.context import Services
from pipelines.queue import make_queue, resumable_record_ids

log = logging.getLogger(__name__)


class Background:
    """Runs processing jobs one batch at a time in a worker thread of this process."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="archive-processing")

    def submit(self, record_ids: Sequence[int]) -> Future[None] | None:
        """Queue ``record_ids`` for processing (their job rows are already pending)."""
        ids = list(record_ids)
        return self._pool.submit(self._run, ids) if ids else None

    def resume(self) -> Future[None] | None:
        """Pick up jobs a previous server left pending or running (crash recovery)."""
        return self.submit(resumable_record_ids(self.svc))

    def _run(self, ids: list[int]) -> None:
        try:
            make_queue(self.svc).run(ids)
        except Exception:  # the jobs stay pending: the next start or `archive ingest --resume` takes them
            log.exception("后台处理中断，记录 %s 将在下次启动时继续处理", ids)
