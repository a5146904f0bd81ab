"""Synchronous mode, the baseline: collect episodes, train, push weights, repeat.

Built from the same workers as asynchronous mode; only the order differs. While the learner
trains, robots wait, and while robots act, the learner waits: this is what asynchronous mode is
measured against. A worker failure stops the run cleanly (exit code 1) with the reason.
"""

from __future__ import annotations

import ray
from ray.exceptions import GetTimeoutError, RayError

from fleetrl.runtime.progress import LiveProgress
from fleetrl.runtime.trainer import Trainer, describe_failure

EXIT_OK, EXIT_FAILED = 0, 1


class SyncRun:
    def __init__(self, trainer: Trainer) -> None:
        self.t = trainer

    def _collect_deadline_s(self, env_steps_per_episode: int = 1000) -> float:
        # Paced robots need real time for their episodes; allow it, then the usual call deadline.
        rt = self.t.config.runtime
        return rt.sync_episodes_per_round * env_steps_per_episode * 0.2 + rt.call_timeout_s

    def _round(self, steps_before: int) -> int:
        """One collect/train round; returns the env steps it collected."""
        t, rt = self.t, self.t.config.runtime
        collects = [worker.collect.remote(rt.sync_episodes_per_round) for worker in t.env_workers]
        ray.get(collects, timeout=self._collect_deadline_s())
        snap = t.snapshot()
        collected = snap["env_steps"] - steps_before
        if snap["env_steps"] >= rt.learning_starts:
            steps = rt.sync_updates_per_round or collected
            t.call(t.learner.train.remote(steps), timeout_s=rt.call_timeout_s + steps * 1.0)
        else:
            t.call(t.learner.publish.remote())
        return collected

    def run(self, progress: LiveProgress) -> int:
        t = self.t
        t.start()
        t.call(t.learner.publish.remote())
        ok = True
        while True:
            snap = t.snapshot()
            if t.done(snap):
                break
            try:
                self._round(snap["env_steps"])
            except (RayError, GetTimeoutError) as err:
                t.failure = f"a worker failed in synchronous mode ({describe_failure(err)})"
                ok = False
                break
            t.tick(t.snapshot(), progress)
        t.call(t.hub.request_stop.remote())
        snap = t.settled_snapshot()
        if ok:
            t.final_evaluation(snap)
            t.checkpoint(snap)
        t.log_final(snap, progress)
        return EXIT_OK if ok else EXIT_FAILED
