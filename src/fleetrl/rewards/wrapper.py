"""A gymnasium wrapper that takes an episode's reward (and, on a verdict, its end) from a Reward."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from fleetrl.rewards.base import Reward

MODES = ("replace", "add")


class RewardWrapper(gym.Wrapper):
    """`env` with its reward replaced by `reward` (mode "replace") or added to it (mode "add").

        env = RewardWrapper(gym.make("fleetrl/PickCube-v0", obs_mode="pixels"), ClassifierReward("success.pt"))

    Each step's info gains "task_reward" (the env's own reward, float), which the reward also sees.
    When the reward's verdict becomes True or False (a person's label, a sure classifier), the
    step is returned with terminated=True, info["verdict"] = the verdict and
    info["verdict_source"] = who decided (and info["human_label"] = the verdict for a person's).

    The wrapper owns `reward`'s episode: it calls `reward.reset()` on every reset, and
    `reward.at_episode_end(info)` when an episode ends with no verdict (a label given then still
    counts, on the last step). It holds on to the latest observation to pass as `obs` on the next
    step, so the env must not overwrite observations it has returned.
    """

    def __init__(self, env: gym.Env, reward: Reward, mode: str = "replace") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        super().__init__(env)
        self.reward, self.mode = reward, mode
        self._obs: Any = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.reward.reset()
        self._obs = obs
        return obs, info

    def step(self, action):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        next_obs, task_reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "task_reward": float(task_reward)}
        reward = float(self.reward(self._obs, action, next_obs, info))
        if (terminated or truncated) and self.reward.verdict is None:
            reward += float(self.reward.at_episode_end(info))  # e.g. a person's label, given now
        if self.mode == "add":
            reward += float(task_reward)
        verdict = self.reward.verdict
        if verdict is not None:
            source = self.reward.verdict_source
            info["verdict"], info["verdict_source"] = bool(verdict), source
            if source == "human_label":
                info["human_label"] = bool(verdict)
            terminated = True
        self._obs = next_obs
        return next_obs, reward, terminated, truncated, info
