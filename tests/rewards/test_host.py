"""RewardHost: the reward worker's rewards, one episode per client; build_reward's own_worker part."""

import numpy as np
import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.base import Reward
from fleetrl.rewards.build import build_reward
from fleetrl.rewards.classifier import ClassifierConfig, SuccessClassifier
from fleetrl.rewards.host import RewardHost
from fleetrl.rewards.rule import TaskReward

ACTION = np.zeros(2, np.float32)


@pytest.fixture
def sure_classifier(tmp_path):
    """A classifier whose p(success) is above 0.5 for every frame (its logit bias is large)."""
    model = SuccessClassifier(ClassifierConfig(cameras=("scene",), height=16, width=16))
    model.logit.bias.data.fill_(20.0)
    return model.save(tmp_path / "sure.pt")


def test_each_client_has_its_own_episode(sure_classifier):
    host = RewardHost([{"type": "classifier", "path": str(sure_classifier), "threshold": 0.5, "ends_episode": True, "worker": "own"},
                       {"type": "success", "weight": 2.0, "worker": "own"}])
    frame = {"scene": np.zeros((16, 16, 3), np.uint8)}
    host.reset("a")
    host.reset("b")
    value, verdict, source = host.score("a", frame, ACTION, frame, {"success": True})
    assert value == 3.0 and verdict is True and source == "classifier"
    host.reset("a")  # a's new episode does not touch b's, which has not decided yet
    value, verdict, _ = host.score("b", frame, ACTION, frame, {"success": False})
    assert value == 1.0 and verdict is True
    value, verdict, _ = host.score("a", frame, ACTION, frame, {"success": False})
    assert verdict is True  # decided again on a's new episode, after its reset
    assert host.served() == {"a": 2, "b": 1}
    models = [host._reward(client).parts[0][1].model for client in ("a", "b")]
    assert models[0] is models[1]  # one model serves every client


def test_a_bad_entry_fails_when_the_host_starts(tmp_path):
    with pytest.raises(ConfigError, match=r"rewards\[0\]\.path: no such file"):
        RewardHost([{"type": "classifier", "path": str(tmp_path / "absent.pt"), "worker": "own"}])


class Recorder(Reward):
    """Stands in for a RemoteReward: 10.0 per step, and the calls it got."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, obs, action, next_obs, info) -> float:
        self.calls += 1
        return 10.0


def test_entries_marked_own_are_left_to_the_reward_worker():
    worker = Recorder()
    entries = [{"type": "task", "weight": 0.5}, {"type": "success", "worker": "own"}]
    reward = build_reward(entries, own_worker=worker)
    assert [type(part) for _, part in reward.parts] == [TaskReward, Recorder]
    assert reward(None, ACTION, None, {"task_reward": 1.0, "success": True}) == 10.5 and worker.calls == 1
    alone = build_reward(entries)  # no reward worker (outside a run): built here
    assert alone(None, ACTION, None, {"task_reward": 1.0, "success": True}) == 1.5
