"""The Reward interface, the rule rewards, human labels and composition."""

from __future__ import annotations

import numpy as np
import pytest

from fleetrl.rewards.base import Reward
from fleetrl.rewards.compose import WeightedSum
from fleetrl.rewards.human_label import HumanLabelReward
from fleetrl.rewards.rule import SuccessReward, TaskReward

OBS, ACTION = np.zeros(3, np.float32), np.zeros(2, np.float32)


def step(reward: Reward, **info) -> float:
    return reward(OBS, ACTION, OBS, info)


class Constant(Reward):
    def __init__(self, value: float, verdict: bool | None = None) -> None:
        self.value, self.decides, self.resets = value, verdict, 0

    def reset(self) -> None:
        super().reset()
        self.resets += 1

    def __call__(self, obs, action, next_obs, info) -> float:
        self.verdict = self.decides
        return self.value


def test_success_reward_follows_info_success_and_scales():
    assert step(SuccessReward(), success=True) == 1.0
    assert step(SuccessReward(), success=False) == 0.0
    assert step(SuccessReward(scale=5.0), success=True) == 5.0
    with pytest.raises(KeyError, match="info\\['success'\\]"):
        step(SuccessReward())
    assert SuccessReward().verdict is None


def test_task_reward_passes_the_env_reward_through():
    assert step(TaskReward(), task_reward=0.7) == pytest.approx(0.7)
    with pytest.raises(KeyError, match="RewardWrapper"):
        step(TaskReward())


def test_weighted_sum_adds_weighted_parts_and_is_a_reward():
    total = WeightedSum([(2.0, SuccessReward()), (0.5, TaskReward()), (-1.0, Constant(0.25))])
    assert isinstance(total, Reward)
    assert step(total, success=True, task_reward=1.0) == pytest.approx(2.0 + 0.5 - 0.25)
    assert step(total, success=False, task_reward=0.0) == pytest.approx(-0.25)
    nested = WeightedSum([(3.0, total)])
    assert step(nested, success=True, task_reward=1.0) == pytest.approx(3 * 2.25)


def test_weighted_sum_verdict_is_the_first_decided_part_and_reset_reaches_every_part():
    undecided, fails, succeeds = Constant(0.0), Constant(0.0, verdict=False), Constant(0.0, verdict=True)
    total = WeightedSum([(1.0, undecided), (1.0, fails), (1.0, succeeds)])
    assert total.verdict is None
    step(total)
    assert total.verdict is False  # parts in order: "fails" comes before "succeeds"
    total.reset()
    assert total.verdict is None and [p.resets for p in (undecided, fails, succeeds)] == [1, 1, 1]
    with pytest.raises(ValueError):
        WeightedSum([])


def test_human_label_success_pays_once_and_decides(scripted_teleop):
    teleop = scripted_teleop()
    reward = HumanLabelReward(teleop, success_reward=2.0)
    reward.reset()
    teleop.push()  # a step with nothing pressed
    teleop.push("success", "takeover")
    teleop.push("failure")  # after the verdict: ignored
    assert [step(reward) for _ in range(3)] == [0.0, 2.0, 0.0]
    assert reward.verdict is True
    reward.reset()
    assert reward.verdict is None


def test_human_label_failure_decides_false_and_both_labels_count_as_failure(scripted_teleop):
    teleop = scripted_teleop()
    reward = HumanLabelReward(teleop, failure_reward=-1.0)
    reward.reset()
    teleop.push("failure")
    assert step(reward) == -1.0 and reward.verdict is False
    reward.reset()
    teleop.push("success", "failure")
    assert step(reward) == -1.0 and reward.verdict is False


def test_human_label_reads_the_device_every_step_and_drops_labels_between_episodes(scripted_teleop):
    teleop = scripted_teleop({"success"})  # pressed after the last episode ended
    reward = HumanLabelReward(teleop)
    reward.reset()
    assert step(reward) == 0.0 and reward.verdict is None
    for _ in range(4):
        step(reward)
    assert teleop.reads == 1 + 5


def test_a_shared_device_gives_every_reader_every_label(scripted_teleop):
    from fleetrl.rewards.human_label import SharedTeleop

    device = scripted_teleop({"takeover"}, {"success"})
    shared = SharedTeleop(device)
    operator, labels = shared.reader(), shared.reader()
    assert operator.read().events == {"takeover"}  # the intervention layer reads first...
    assert operator.read().events == {"success"}
    reward = HumanLabelReward(labels)  # ...and the reward still sees both events
    assert labels.read().events == {"takeover", "success"}
    assert labels.read().events == frozenset() and device.reads == 4  # each read reads the device
    device.push("failure")
    assert step(reward) == 0.0 and reward.verdict is False
    assert operator.read().events == {"failure"}
