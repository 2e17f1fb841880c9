"""A small job queue for MPC runs started from the app (no Streamlit import).

The app keeps ONE JobManager per server (st.cache_resource) and only a job id per browser session.
Jobs run in worker threads (each job itself starts one OS process per party), at most
`max_concurrent` at a time on this 2-core machine, first come first served.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "JobManager"]


@dataclass
class Job:
    id: str
    label: str
    state: str = "queued"  # queued | running | done | error | cancelled
    message: str = "waiting for a free slot"
    progress: float = 0.0
    result: Any = None
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
        for i in range(max_concurrent):
            threading.Thread(target=self._worker, name=f"mpc-job-worker-{i}", daemon=True).start()

    def submit(self, label: str, fn: Callable[..., Any]) -> str:
        """Queue `fn(job)`; it may call job updates and must honour `job.cancel`."""
        with self._lock:
            job = Job(id=f"job-{next(self._ids)}", label=label)
            self._jobs[job.id] = job
        self._queue.put((job, fn))
        return job.id

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

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
                job.state, job.message = "cancelled", "cancelled before it started"
                continue
            job.state, job.started, job.message, job.progress = "running", time.time(), "starting parties", 0.05
            try:
                job.result = fn(job)
                job.state, job.message, job.progress = "done", "finished", 1.0
            except Exception as exc:  # shown to the user as a clear message, never a traceback
                job.state, job.error = ("cancelled" if job.cancel.is_set() else "error"), str(exc)
                job.message = job.error
            finally:
                job.finished = time.time()
