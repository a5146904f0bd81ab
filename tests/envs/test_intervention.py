"""The intervention layer with the scripted expert playing the human, and with a teleop device."""

import numpy as np
import pytest

from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_HUMAN, ACTOR_POLICY
from fleetrl.envs.factory import make_task_env
from fleetrl.envs.intervention import (
    DeviceOperator,
    ExpertOperator,
    InterventionWrapper,
    command_to_env_action,
)
from fleetrl.envs.intervention_config import InterventionConfig, TakeoverRule
from fleetrl.hardware.teleop.base import TeleopCommand


def wrapped(rule: TakeoverRule, seed: int = 0, hold_steps: int = 10):
    env = make_task_env("pick_cube", "sim_panda")
    return InterventionWrapper(env, ExpertOperator(env, rule, seed, hold_steps))


def run(env, policy, steps: int, seed: int = 0):
    env.reset(seed=seed)
    infos = []
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(policy())
        infos.append(info)
        if terminated or truncated:
            break
    return infos


def test_divergence_takes_over_from_a_wrong_policy_and_holds_control():
    env = wrapped(TakeoverRule(kind="divergence", threshold=0.5), hold_steps=5)
    dim = env.action_space.shape[0]
    infos = run(env, lambda: -np.ones(dim, np.float32), 30)  # flees to a corner, gripper open
    assert infos[0]["intervened"] and infos[0]["takeover"] and infos[0]["actor"] == ACTOR_EXPERT
    assert all(i["intervened"] for i in infos[:5])  # held for hold_steps at least
    for info in infos:
        if info["intervened"]:  # what ran is the expert's action, not the policy's
            assert not np.allclose(info["executed_action"], info["policy_action"])
        else:
            assert np.array_equal(info["executed_action"], info["policy_action"])
    env.close()


def test_a_policy_that_does_what_the_expert_would_is_left_alone():
    env = wrapped(TakeoverRule(kind="divergence", threshold=0.5))
    operator = env.operator
    env.reset(seed=3)
    for _ in range(40):
        action = operator.expert.act(env.unwrapped.last_observation)
        _, _, terminated, truncated, info = env.step(action)
        assert not info["intervened"] and info["actor"] == ACTOR_POLICY
        if terminated or truncated:
            break
    env.close()


def test_going_wrong_waits_for_patience_then_takes_over():
    env = wrapped(TakeoverRule(kind="going_wrong", patience=8, min_progress=0.01), hold_steps=3)
    dim = env.action_space.shape[0]
    infos = run(env, lambda: np.zeros(dim, np.float32), 40)  # a policy that does nothing makes no progress
    first = next(i for i, info in enumerate(infos) if info["intervened"])
    assert first >= 8  # not before `patience` steps of no progress
    env.close()


def test_fixed_rate_takes_over_about_as_often_as_asked_and_never_means_never():
    env = wrapped(TakeoverRule(kind="fixed_rate", rate=0.1), seed=1, hold_steps=1)
    dim = env.action_space.shape[0]
    infos = run(env, lambda: np.zeros(dim, np.float32), 200)
    share = np.mean([i["intervened"] for i in infos])
    assert 0.03 < share < 0.2
    env = wrapped(TakeoverRule(kind="never"))
    assert not any(i["intervened"] for i in run(env, lambda: -np.ones(dim, np.float32), 30))


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="kind"):
        TakeoverRule(kind="sometimes")
    with pytest.raises(ValueError, match="hold_steps"):
        InterventionConfig(device="expert", hold_steps=0)


class ScriptedDevice:
    """A person at a device: engaged on the steps listed, pushing +x."""

    def __init__(self, engaged_steps):
        self.engaged_steps, self.t = set(engaged_steps), 0

    def read(self):
        self.t += 1
        action = np.array([1, 0, 0, 0, 0, 0, 1], np.float32)
        events = frozenset({"success"}) if self.t == 3 else frozenset()
        return TeleopCommand(action, engaged=self.t in self.engaged_steps, events=events)


def test_a_person_at_a_device_takes_over_in_the_env_action_mode():
    env = make_task_env("pick_cube", "sim_panda")
    mode = env.unwrapped.actions.mode
    operator = DeviceOperator(ScriptedDevice({2, 3}), mode, hold_steps=1)
    env = InterventionWrapper(env, operator)
    infos = run(env, lambda: np.zeros(env.action_space.shape, np.float32), 5)
    assert [i["intervened"] for i in infos] == [False, True, True, False, False]
    assert infos[1]["actor"] == ACTOR_HUMAN and infos[1]["takeover"] and not infos[2]["takeover"]
    expected = command_to_env_action(np.array([1, 0, 0, 0, 0, 0, 1], np.float32), mode)
    assert np.array_equal(infos[1]["executed_action"], expected)
    assert operator.events == {"success"}
    env.close()


def test_teleop_commands_map_onto_each_action_mode():
    command = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, -1.0], np.float32)
    assert command_to_env_action(command, "full").tolist() == pytest.approx(command.tolist())
    assert command_to_env_action(command, "xyz_gripper").tolist() == pytest.approx([0.1, 0.2, 0.3, -1.0])
    assert command_to_env_action(command, "xyz").tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert command_to_env_action(command * 5, "xyz").max() == 1.0  # clipped to the action bounds
