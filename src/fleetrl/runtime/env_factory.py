"""Building the environment of one env worker from the run config."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import fleetrl.envs  # noqa: F401  (registers fleetrl's environment ids)
from fleetrl.core.errors import ConfigError
from fleetrl.envs.intervention import DeviceOperator, ExpertOperator, InterventionWrapper, Operator
from fleetrl.envs.intervention_config import InterventionConfig
from fleetrl.rewards.base import Reward
from fleetrl.rewards.config import RewardEntry, parse_rewards
from fleetrl.runtime.config import EnvConfig


def make_worker_env(config: EnvConfig, index: int, intervention: InterventionConfig | None = None, seed: int = 0,
                    rewards: Sequence[RewardEntry | dict] | None = None, own_reward: Reward | None = None) -> gym.Env:
    """The environment of env worker `index`: its robot for fleetrl tasks, else a plain `gym.make`,
    wrapped so that `intervention`'s operator can take over (when it is enabled).

    Raises `ConfigError` naming `env.id`, `env.imports` or `intervention.device` when they cannot
    be resolved (a teleop device that is absent, or no display), or `rewards[i]...` for a reward
    entry that cannot be built. With `rewards` (entries, or their config dicts), their weighted
    sum replaces the env's reward (kept in info["task_reward"]); an entry that `needs_frames` on an
    env without cameras in its observations gets frames rendered for it alone, in info["frames"].
    `own_reward` is this worker's handle on the run's reward worker, which computes the entries
    marked `worker: own`; without it they run here.
    """
    for module in config.imports:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ConfigError(f"env.imports: cannot import {module!r}: {err}") from None
    kwargs = dict(config.kwargs)
    entries = parse_rewards(list(rewards)) if rewards else []
    frames_for_reward = any(entry.needs_frames for entry in entries) and kwargs.get("obs_mode", "state") == "state"
    if config.is_fleetrl_task:
        kwargs.setdefault("robot", config.robots[index])
        kwargs.setdefault("paced", config.paced)
        if frames_for_reward:
            kwargs.setdefault("render_mode", "rgb_array")  # renders the scene camera, not shown to the policy
    try:
        env = gym.make(config.id, **kwargs)
    except gym.error.Error as err:
        raise ConfigError(f"env.id: cannot make {config.id!r}: {err}") from None
    env = _normalised_actions(env)
    teleop = None
    if intervention is not None and intervention.enabled:
        operator = _operator(env, intervention, seed)
        teleop = getattr(operator, "teleop", None)
        if teleop is not None:  # the person's labels reach the reward too: both read every event
            from fleetrl.rewards.human_label import SharedTeleop

            shared = SharedTeleop(teleop)
            operator.teleop, teleop = shared.reader(), shared.reader()
    if entries:
        from fleetrl.rewards.build import build_reward
        from fleetrl.rewards.wrapper import RewardWrapper

        if frames_for_reward:
            env = _FramesInInfo(env)
        reward = build_reward(entries, teleop=teleop, own_worker=own_reward, success_key=config.success_key)
        env = RewardWrapper(env, reward)
    if intervention is not None and intervention.enabled:
        env = InterventionWrapper(env, operator)
    return env


class _FramesInInfo(gym.Wrapper):
    """Puts the robot's camera frames of each step into info["frames"] (for a reward model)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        last = getattr(self.env.unwrapped, "last_observation", None)
        if last is not None:
            info = {**info, "frames": dict(last.images)}
        return obs, reward, terminated, truncated, info


def _operator(env: gym.Env, config: InterventionConfig, seed: int) -> Operator:
    if config.device == "expert":
        return ExpertOperator(env, config.rule, seed, config.hold_steps)
    from fleetrl.hardware.teleop.base import TeleopUnavailable
    from fleetrl.hardware.teleop.registry import make_teleop

    teleop = make_teleop(config.device)
    try:
        teleop.connect()
    except TeleopUnavailable as err:
        raise ConfigError(f"intervention.device: {err}") from None
    mode = getattr(env.unwrapped, "actions", None)
    return DeviceOperator(teleop, mode.mode if mode is not None else "full", config.hold_steps)


def _normalised_actions(env: gym.Env) -> gym.Env:
    """Policies act in [-1, 1]; rescale a bounded Box action space that uses other bounds."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Box):
        raise ConfigError(f"env.id: {env.spec.id if env.spec else env}: only continuous (Box) action spaces are supported")
    if np.all(space.low == -1.0) and np.all(space.high == 1.0):
        return env
    if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ConfigError("env.id: the action space must be bounded to be rescaled to [-1, 1]")
    return gym.wrappers.RescaleAction(env, -1.0, 1.0)


def worker_label(config: EnvConfig, index: int) -> str:
    """A short name for env worker `index` (its robot, or the env id), for progress and metrics."""
    if config.is_fleetrl_task:
        robot = config.robots[index]
        if isinstance(robot, dict):
            return str(robot.get("name") or robot.get("type") or f"robot{index}")
        return f"{robot}#{index}"
    return f"{config.id.split('/')[-1]}#{index}"
