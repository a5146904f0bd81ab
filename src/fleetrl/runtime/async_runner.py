"""Asynchronous mode: robots act, inference infers and the learner trains, all at once.

The driver starts every worker's long-running loop, then only watches: each tick it reads the
hub's snapshot, updates the live view, and on schedule logs a metrics line, evaluates and
checkpoints. A worker whose loop ended with an error, or whose heartbeat is older than the call
deadline, is restarted (the learner from the newest checkpoint) or, when restarts are off or used
up, the run stops cleanly with exit code 1 and says which worker failed and why.
"""

from __future__ import annotations

import time

import ray
from ray.exceptions import RayError

from fleetrl.runtime.progress import LiveProgress
from fleetrl.runtime.trainer import Trainer, describe_failure, retire

TICK_S = 0.5
EXIT_OK, EXIT_FAILED = 0, 1


class AsyncRun:
    def __init__(self, trainer: Trainer) -> None:
        self.t = trainer
        self.loops: dict[str, ray.ObjectRef] = {}

    def _start_loops(self) -> None:
        for name, worker in zip(self.t.worker_names, self.t.env_workers):
            self.loops[name] = worker.run.remote()
        self.loops["learner"] = self.t.learner.run.remote()

    def _restart(self, name: str) -> None:
        if name == "learner":
            self.t.restart_learner()
            self.loops["learner"] = self.t.learner.run.remote()
            return
        index = self.t.worker_names.index(name)
        self.t.call(self.t.hub.worker_restarted.remote(name))
        retire(self.t.env_workers[index])
        self.t.env_workers[index] = self.t._spawn_env_worker(index)
        self.t.record_where(name, self.t.env_workers[index])
        self.t.worker_started[name] = time.monotonic()
        self.loops[name] = self.t.env_workers[index].run.remote()

    def _check_workers(self, snap: dict) -> bool:
        """Handle ended or silent workers; False when the run must stop."""
        deadline = self.t.config.runtime.call_timeout_s
        for name, age in snap["heartbeat_age_s"].items():
            if name in self.loops and age > deadline:
                actor = self.t.learner if name == "learner" else self.t.env_workers[self.t.worker_names.index(name)]
                self.t.log(f"[red]{name} sent no heartbeat for {age:.0f} s; stopping it")
                ray.kill(actor, no_restart=True)
        ready, _ = ray.wait(list(self.loops.values()), num_returns=len(self.loops), timeout=0)
        for ref in ready:
            name = next(n for n, r in self.loops.items() if r == ref)
            try:
                ray.get(ref, timeout=deadline)
                reason = "its loop ended before the run did"
            except RayError as err:
                reason = describe_failure(err)
            if name != "learner" and not self.t.check_inference_of(self.t.worker_names.index(name)):
                return False
            if not self.t.allow_restart(name, reason):
                return False
            self._restart(name)
        return True

    def run(self, progress: LiveProgress) -> int:
        t = self.t
        t.start()
        self._start_loops()
        ok = True
        while True:
            time.sleep(TICK_S)
            snap = t.snapshot()
            if t.done(snap):
                break
            ok = self._check_workers(snap)
            if not ok:
                break
            t.tick(snap, progress)
        return self._finish(progress, ok)

    def _finish(self, progress: LiveProgress, ok: bool) -> int:
        t = self.t
        t.call(t.hub.request_stop.remote())
        # Loops see the stop flag at their next report; give them one deadline to wind down.
        ray.wait(list(self.loops.values()), num_returns=len(self.loops), timeout=t.config.runtime.call_timeout_s)
        snap = t.settled_snapshot()
        if ok:
            t.final_evaluation(snap)
        try:
            t.checkpoint(snap)
        except RayError as err:  # the learner is the failed worker: the last good checkpoint stands
            t.log(f"[yellow]final checkpoint skipped: {describe_failure(err)}")
        t.log_final(snap, progress)
        return EXIT_OK if ok else EXIT_FAILED
