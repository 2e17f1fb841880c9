"""The app's job queue: at most `max_concurrent` jobs at once, first come first served, errors kept as messages,
and every step in the `sandbox.jobs` log (which the load benchmark reads)."""

from __future__ import annotations

import logging
import threading
import time

from sandbox.jobs import JobManager


def _wait(manager: JobManager, ids: list[str], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while any(manager.get(i).active for i in ids):
        assert time.monotonic() < deadline, [manager.get(i) for i in ids]
        time.sleep(0.01)


def test_at_most_the_cap_run_at_once_and_jobs_start_in_order(caplog):
    manager = JobManager(max_concurrent=2)
    lock = threading.Lock()
    running, peak, order = 0, 0, []

    def work(job):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            order.append(job.id)
        time.sleep(0.05)
        with lock:
            running -= 1
        return job.id

    with caplog.at_level(logging.INFO, logger="sandbox.jobs"):
        ids = [manager.submit(f"job {k}", work) for k in range(8)]
        _wait(manager, ids)
    assert peak == 2
    assert [manager.get(i).result for i in ids] == ids
    assert all(manager.get(i).state == "done" for i in ids)
    # two workers take jobs from one queue in order; only the two taken last may swap places on the way to `work`
    assert all(abs(order.index(job_id) - k) <= 1 for k, job_id in enumerate(ids)), order
    assert manager.running == 0
    started = [r.getMessage() for r in caplog.records if " started " in r.getMessage()]
    assert len(started) == 8 and all(m.endswith(("(1 running)", "(2 running)")) for m in started), started
    assert sum(" done after " in r.getMessage() for r in caplog.records) == 8


def test_position_counts_the_jobs_queued_ahead():
    manager = JobManager(max_concurrent=1)
    release = threading.Event()
    first = manager.submit("blocker", lambda job: release.wait(10))
    waiting = [manager.submit(f"w{k}", lambda job: None) for k in range(3)]
    deadline = time.monotonic() + 5
    while manager.get(first).state != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [manager.position(i) for i in waiting] == [0, 1, 2]
    release.set()
    _wait(manager, [first, *waiting])


def test_an_error_is_a_message_and_a_cancelled_job_never_starts():
    manager = JobManager(max_concurrent=1)
    release = threading.Event()
    blocker = manager.submit("blocker", lambda job: release.wait(10))

    def fail(job):
        raise RuntimeError("party 1 (kmar) exited with code 3")

    failing = manager.submit("fails", fail)
    ran = threading.Event()
    cancelled = manager.submit("cancelled", lambda job: ran.set())
    manager.cancel(cancelled)
    release.set()
    _wait(manager, [blocker, failing, cancelled])
    assert manager.get(failing).state == "error"
    assert manager.get(failing).error == "party 1 (kmar) exited with code 3"
    assert manager.get(cancelled).state == "cancelled" and not ran.is_set()
    assert manager.running == 0
