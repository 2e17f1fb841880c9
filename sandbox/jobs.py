"""A small job queue for MPC runs started from the app (no Streamlit import).

The app keeps ONE JobManager per server (st.cache_resource) and only a job id per browser session.
Jobs run in worker threads (each job itself starts one OS process per party), at most
`max_concurrent` at a time on this 2-core machine, first come first served. Every job's queueing, start and
end go to the `sandbox.jobs` logger with the number of jobs running, so a facilitator (and the load benchmark)
can read from the server's log how the queue behaved.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.i18n import N_

__all__ = ["JOB_LOG_FORMAT", "Job", "JobManager"]

log = logging.getLogger(__name__)
# "1764392400.123 sandbox.jobs job job-3 started (2 running)": seconds since the epoch first
JOB_LOG_FORMAT = "%(created).3f %(name)s %(message)s"


@dataclass
class Job:
    id: str
    label: str
    state: str = "queued"  # queued | running | done | error | cancelled
    message: str = N_("waiting for a free slot")  # shown on the page through ui.error_text (translated)
    progress: float = 0.0
    result: Any = None
    partial: Any = None  # what the job can show before it is done (e.g. a run's result before its check)
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        return self.state in {"queued", "running"}


class JobManager:
    def __init__(self, max_concurrent: int = 2) -> None:
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[tuple[Job, Callable[..., Any]]] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._running = 0
        for i in range(max_concurrent):
            threading.Thread(target=self._worker, name=f"mpc-job-worker-{i}", daemon=True).start()

    def submit(self, label: str, fn: Callable[..., Any]) -> str:
        """Queue `fn(job)`; it may call job updates and must honour `job.cancel`."""
        with self._lock:
            job = Job(id=f"job-{next(self._ids)}", label=label)
            self._jobs[job.id] = job
        log.info("job %s queued: %s", job.id, label)  # before a worker can log its start
        self._queue.put((job, fn))
        return job.id

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

    @property
    def running(self) -> int:
        """Jobs running now."""
        return self._running

    def position(self, job_id: str) -> int:
        """How many queued jobs were submitted before this one (0 = next)."""
        job = self._jobs[job_id]
        return sum(1 for j in self._jobs.values() if j.state == "queued" and j.submitted < job.submitted)

    def cancel(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job:
            job.cancel.set()

    def _worker(self) -> None:
        while True:
            job, fn = self._queue.get()
            if job.cancel.is_set():
                job.state, job.message = "cancelled", N_("cancelled before it started")
                log.info("job %s cancelled before it started", job.id)
                continue
            with self._lock:
                self._running += 1
                running = self._running
            job.state, job.started, job.message, job.progress = "running", time.time(), N_("starting parties"), 0.05
            log.info("job %s started (%d running)", job.id, running)
            try:
                job.result = fn(job)
                job.state, job.message, job.progress = "done", N_("finished"), 1.0
            except Exception as exc:  # shown to the user as a clear message, never a traceback
                job.state, job.error = ("cancelled" if job.cancel.is_set() else "error"), str(exc)
                job.message = job.error
            finally:
                job.finished = time.time()
                with self._lock:
                    self._running -= 1
                log.info("job %s %s after %.2f s", job.id, job.state, job.finished - job.started)
