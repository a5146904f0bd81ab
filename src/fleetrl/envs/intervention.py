"""Interventions: a teleoperator (a person, or the scripted expert playing one) takes over.

    env = make_task_env("pick_cube", "sim_panda")
    env = InterventionWrapper(env, ExpertOperator(env, TakeoverRule(kind="divergence"), hold_steps=10))
    obs, reward, terminated, truncated, info = env.step(policy_action)
    info["actor"]              ACTOR_POLICY, ACTOR_HUMAN or ACTOR_EXPERT: who chose the executed action
    info["intervened"]         True when the operator had control this step
    info["executed_action"]    the action actually sent to the env (the policy's, or the operator's)
    info["policy_action"]      what the policy asked for
    info["takeover"]           True on the step control passed to the operator

The wrapper sits between the policy and the robot, so whatever acts (policy or person) goes
through the same env, the same safety limits and the same recording. Control, once taken, is held
for at least `hold_steps` steps (the hold time of the reference's interventions), then the rule
decides again. The run config's `intervention` section (`InterventionConfig`, in
`fleetrl.envs.intervention_config`) says which operator and rule a run uses.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_HUMAN, ACTOR_POLICY
from fleetrl.envs.intervention_config import TakeoverRule


class Operator:
    """Decides, each step, whether it holds control and which action it would take."""

    actor = ACTOR_HUMAN

    def reset(self) -> None:
        """A new episode begins."""

    def decide(self, policy_action: np.ndarray) -> tuple[bool, np.ndarray | None]:
        """(engaged, the operator's env action, or None when it has none)."""
        raise NotImplementedError


class ExpertOperator(Operator):
    """The scripted expert of a fleetrl task, taking over by `rule` (seeded, so runs repeat) and
    keeping control for `hold_steps` steps at least."""

    actor = ACTOR_EXPERT

    def __init__(self, env: gym.Env, rule: TakeoverRule, seed: int = 0, hold_steps: int = 10) -> None:
        from fleetrl.envs.experts import expert_for

        self.env, self.rule, self.hold_steps = env.unwrapped, rule, hold_steps
        self.expert = expert_for(self.env)
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self._hold = 0
        self._progress: list[float] = []

    def _progress_now(self) -> float:
        return float(self.env.task.shaped_reward(self.env.last_observation))

    def _triggered(self, policy_action: np.ndarray, expert_action: np.ndarray) -> bool:
        rule = self.rule
        if rule.kind == "divergence":
            return float(np.max(np.abs(policy_action - expert_action))) > rule.threshold
        if rule.kind == "going_wrong":
            history = self._progress
            if len(history) > rule.patience:
                stalled = history[-1] - history[-1 - rule.patience] < rule.min_progress
                fell = max(history) - history[-1] > rule.threshold
                return stalled or fell
            return False
        if rule.kind == "fixed_rate":
            return bool(self._rng.random() < rule.rate)
        return False

    def decide(self, policy_action: np.ndarray) -> tuple[bool, np.ndarray]:
        expert_action = np.clip(self.expert.act(self.env.last_observation), -1.0, 1.0).astype(np.float32)
        if self.rule.kind == "going_wrong":
            self._progress.append(self._progress_now())
        if self._hold > 0:
            self._hold -= 1
            return True, expert_action
        if self._triggered(np.asarray(policy_action, dtype=np.float32), expert_action):
            self._hold = self.hold_steps - 1
            self._progress.clear()  # judge the policy afresh once control comes back
            return True, expert_action
        return False, expert_action


def command_to_env_action(command: np.ndarray, mode: str) -> np.ndarray:
    """A teleop command (7,: translation, rotation, gripper in [-1, 1]) in an env's action mode."""
    command = np.clip(np.asarray(command, dtype=np.float32), -1.0, 1.0)
    if mode == "full":
        return command
    if mode == "xyz_gripper":
        return np.concatenate([command[:3], command[6:7]])
    if mode == "xyz":
        return command[:3].copy()
    raise ValueError(f"unknown action mode {mode!r}")


class DeviceOperator(Operator):
    """A person at a teleop device (`fleetrl.hardware.teleop`): engaged while they hold control."""

    actor = ACTOR_HUMAN

    def __init__(self, teleop, action_mode: str, hold_steps: int = 1) -> None:
        self.teleop, self.action_mode, self.hold_steps = teleop, action_mode, hold_steps
        self._hold = 0
        self.events: set[str] = set()  # events since the last reset, for human reward labels

    def reset(self) -> None:
        self._hold = 0
        self.events = set()

    def decide(self, policy_action: np.ndarray) -> tuple[bool, np.ndarray]:
        command = self.teleop.read()
        self.events |= set(command.events)
        if command.engaged:
            self._hold = self.hold_steps
        engaged = command.engaged or self._hold > 0
        self._hold = max(0, self._hold - 1)
        return engaged, command_to_env_action(command.action, self.action_mode)


class InterventionWrapper(gym.Wrapper):
    """Lets `operator` take over `env` at any step (see the module docstring for the info keys)."""

    def __init__(self, env: gym.Env, operator: Operator) -> None:
        super().__init__(env)
        self.operator = operator
        self._engaged = False

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.operator.reset()
        self._engaged = False
        return obs, info

    def step(self, action):
        action = np.asarray(action, dtype=np.float32)
        engaged, operator_action = self.operator.decide(action)
        executed = operator_action if engaged and operator_action is not None else action
        obs, reward, terminated, truncated, info = self.env.step(executed)
        info = dict(info)
        info.update(
            actor=self.operator.actor if engaged else ACTOR_POLICY,
            intervened=bool(engaged),
            takeover=bool(engaged and not self._engaged),
            executed_action=np.asarray(executed, dtype=np.float32),
            policy_action=action,
        )
        self._engaged = bool(engaged)
        return obs, reward, terminated, truncated, info
