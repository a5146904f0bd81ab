"""Demonstrations from a person at a teleop device (a scripted stand-in for the device)."""

import numpy as np

from fleetrl.core.transitions import ACTOR_HUMAN, SOURCE_DEMO
from fleetrl.envs.demonstrations import record_teleop_demos
from fleetrl.envs.factory import make_task_env
from fleetrl.hardware.teleop.base import TeleopCommand


class Person:
    """Pushes +x with the gripper open; labels each episode on its `label_at`-th step."""

    name = "scripted person"

    def __init__(self, label_at: int, labels):
        self.label_at, self.labels, self.t = label_at, list(labels), 0

    def read(self):
        self.t += 1
        events = frozenset()
        if self.t % self.label_at == 0:
            events = frozenset({self.labels.pop(0)})
        return TeleopCommand(np.array([1, 0, 0, 0, 0, 0, -1], np.float32), engaged=False, events=events)


def test_the_persons_labels_end_episodes_and_decide_what_is_kept():
    env = make_task_env("pick_cube", "sim_panda")
    try:
        chunks, meta = record_teleop_demos(env, Person(4, ["success", "failure", "success"]), episodes=3)
    finally:
        env.close()
    assert meta["attempted"] == 3 and meta["successes"] == 2 and meta["episodes"] == 2
    steps = np.concatenate([c["action"] for c in chunks])
    assert len(steps) == meta["transitions"] == 8  # two kept episodes of 4 steps, each ended by the label
    for chunk in chunks:
        assert (chunk["source"] == SOURCE_DEMO).all() and (chunk["actor"] == ACTOR_HUMAN).all()
        assert (chunk["policy_version"] == -1).all()
        assert chunk["truncated"][-1] == 1.0 and chunk["success"][-1] == 1.0
    assert np.allclose(steps[:, 0], 1.0)  # the person's command, mapped to the env's action mode
