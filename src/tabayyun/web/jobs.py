"""Background jobs of the web server: ingests and long claim checks, run one at a time.

One worker thread runs every job, so writes to the workspace are serialised without locks; each job
reports its progress while it runs. Jobs live in memory only (the last `KEEP` of them): a restarted
server forgets them, the workspace keeps what they stored.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

KEEP = 200
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One unit of background work. `run(job)` does it, calling `job.report(...)` as it goes, and
    returns the result (a JSON-able dict)."""

    kind: str
    run: Callable[[Job], Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = QUEUED
    progress: dict = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    _finished_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def report(self, **progress: Any) -> None:
        self.progress = {**self.progress, **progress}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is done or failed; False if `timeout` ran out first."""
        return self._finished_event.wait(timeout)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": dict(self.progress),
                "result": self.result, "error": self.error, "created": self.created, "started": self.started,
                "finished": self.finished}


class JobManager:
    """Runs submitted jobs in order on one thread and remembers the last `keep` of them."""

    def __init__(self, keep: int = KEEP):
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, kind: str, run: Callable[[Job], Any]) -> Job:
        job = Job(kind, run)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
            if self._thread is None or not self._thread.is_alive():
                # Started on first use, and again after `close`: the app's lifespan may end and restart.
                self._thread = threading.Thread(target=self._work, name="tabayyun-jobs", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            job.state, job.started = RUNNING, _now()
            try:
                job.result = job.run(job)
                job.state = DONE
            except Exception as exc:  # noqa: BLE001 - a failed job is reported on the job, the worker goes on
                job.error = f"{type(exc).__name__}: {exc}"
                job.state = FAILED
            job.finished = _now()
            job._finished_event.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the jobs already queued (waiting at most `timeout` seconds)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
