"""Reward config entries -> one Reward, with errors that name the entry."""

from __future__ import annotations

import numpy as np
import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.build import build_reward
from fleetrl.rewards.classifier import ClassifierConfig, ClassifierReward, SuccessClassifier
from fleetrl.rewards.compose import WeightedSum
from fleetrl.rewards.config import parse_rewards
from fleetrl.rewards.entries import ClassifierEntry
from fleetrl.rewards.human_label import HumanLabelReward


@pytest.fixture
def model_path(tmp_path):
    return SuccessClassifier(ClassifierConfig(cameras=("wrist",), height=16, width=16)).save(tmp_path / "m.pt")


def test_a_full_list_builds_a_weighted_sum(tmp_path, model_path, scripted_teleop):
    teleop = scripted_teleop()
    config = [
        {"type": "success", "weight": 2},
        {"type": "classifier", "path": "m.pt", "mode": "replace", "weight": 0.5, "threshold": 0.9, "ends_episode": True},
        {"type": "human_label", "device": "keyboard", "wait_at_end_s": 3.0},
        {"type": "task"},
    ]
    reward = build_reward(config, teleop=teleop, base_dir=tmp_path)
    assert isinstance(reward, WeightedSum)
    kinds = [type(part).__name__ for _, part in reward.parts]
    assert kinds == ["SuccessReward", "ClassifierReward", "HumanLabelReward", "TaskReward"]
    classifier = reward.parts[1][1]
    assert isinstance(classifier, ClassifierReward) and classifier.weight == 0.5 and classifier.threshold == 0.9
    assert classifier.ends_episode and reward.parts[2][1].wait_at_end_s == 3.0
    reward.reset()
    teleop.push("success")
    frame = {"wrist": np.zeros((16, 16, 3), np.uint8)}
    value = reward(frame, np.zeros(2), frame, {"success": True, "task_reward": 0.25})
    assert value == pytest.approx(2 * 1.0 + 0.0 + 1.0 + 0.25)  # p(success) of an untrained net < 0.9
    assert reward.verdict is True


def test_parsed_entries_are_accepted_as_they_are(model_path):
    entries = parse_rewards([{"type": "classifier", "path": str(model_path)}])
    assert isinstance(entries[0], ClassifierEntry)
    assert isinstance(build_reward(entries).parts[0][1], ClassifierReward)


@pytest.mark.parametrize(
    "config, message",
    [
        ([], "rewards: expected a non-empty list"),
        ([{"type": "task"}, {"type": "learned"}],
         "rewards[1].type: unknown reward type 'learned'; known types: classifier, human_label, success, task"),
        ([{"weight": 1}], "rewards[0].type: missing; known types: classifier, human_label, success, task"),
        ([{"type": "task"}, {"type": "classifier"}], "rewards[1].path: Field required"),
        ([{"type": "classifier", "path": "m.pt", "mode": "max"}], "rewards[0].mode: Input should be 'replace' or 'add'"),
        ([{"type": "success", "scale": 3}], "rewards[0].scale: unknown key"),
        ([{"type": "classifier", "path": "m.pt", "threshold": 1.5}], "rewards[0].threshold: Input should be less than 1"),
        ([{"type": "classifier", "path": "m.pt", "ends_episode": True}], "rewards[0]: Value error, ends_episode needs a threshold"),
        ([{"type": "classifier", "path": "m.pt", "device": "tpu"}], "rewards[0].device: String should match pattern"),
        ([{"type": "task", "worker": "gpu"}], "rewards[0].worker: Input should be 'env' or 'own'"),
        ([{"type": "human_label", "worker": "own"}], "rewards[0].worker: a human_label reward reads the teleop device beside the robot"),
    ],
)
def test_bad_entries_are_named(config, message):
    with pytest.raises(ConfigError) as err:
        parse_rewards(config)
    assert message in str(err.value)


def test_build_errors_name_the_entry(tmp_path, model_path, scripted_teleop):
    with pytest.raises(ConfigError, match=r"rewards\[1\]\.path: no such file"):
        build_reward([{"type": "task"}, {"type": "classifier", "path": "absent.pt"}], base_dir=tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ConfigError, match=r"rewards\[0\]\.path: .*junk.pt: not a readable torch file"):
        build_reward([{"type": "classifier", "path": str(tmp_path / "junk.pt")}])
    with pytest.raises(ConfigError, match=r"rewards\[0\]: human_label needs the run's teleop device"):
        build_reward([{"type": "human_label"}])

    class Spacemouse:
        name = "spacemouse"

        def read(self):
            return scripted_teleop().read()

    with pytest.raises(ConfigError, match=r"rewards\[0\]\.device: 'keyboard', but the run's teleop device is 'spacemouse'"):
        build_reward([{"type": "human_label", "device": "keyboard"}], teleop=Spacemouse())
    assert isinstance(build_reward([{"type": "human_label"}], teleop=Spacemouse()).parts[0][1], HumanLabelReward)
