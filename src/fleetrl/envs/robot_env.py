"""A gymnasium environment composed from a robot, its cameras and a task.

The environment owns nothing but the episode: the robot does the acting (and the safety
clipping), the task says what is seen and what counts as success. The same class runs a local
simulated robot, a served one and a real one.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from fleetrl.core.interfaces import Robot
from fleetrl.core.types import Observation
from fleetrl.envs.actions import ActionMap
from fleetrl.envs.task import Task

OBS_MODES = ("state", "pixels")
REWARD_MODES = ("sparse", "shaped", "none")
PROPRIO_DIM = 8  # ee_pos (3), ee_quat (4), gripper (1): see Observation.proprio


class RobotEnv(gym.Env):
    """`obs_mode="state"`: a float32 vector, proprioception followed by the task's features.
    `obs_mode="pixels"`: a dict with "state" (proprioception only, float32 (8,)) and one uint8
    (H, W, 3) image per robot camera, keyed by camera name; no privileged simulator state.

    `reward="sparse"`: 1.0 on the step that succeeds, and the episode then terminates.
    `reward="shaped"`: the task's dense progress signal in [0, 1] every step (1.0 while the task
    is done), and success does not end the episode: the robot must hold it until the time limit.
    (Ending it would make a dense reward pay better for hovering near success than for success.)
    `reward="none"`: 0.0 every step and only the time limit ends an episode, for a run whose
    reward components (a learned success classifier) decide both reward and the end, as on a
    robot with no success test; "success" is still reported, to measure. `info` carries "success",
    the robot's "applied_action" (after safety clipping) and "robot_timestamp".
    The environment connects the robot on first reset and disconnects it on `close()`.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        robot: Robot,
        task: Task,
        obs_mode: str = "state",
        reward: str = "sparse",
        max_translation: float = 0.03,
        max_rotation: float = 0.15,
        render_mode: str | None = None,
    ) -> None:
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if reward not in REWARD_MODES:
            raise ValueError(f"reward must be one of {REWARD_MODES}, got {reward!r}")
        self.robot = robot
        self.task = task
        self.obs_mode = obs_mode
        self.reward_mode = reward
        self.render_mode = render_mode
        self.actions = ActionMap(task.action_mode, max_translation, max_rotation)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self.actions.dim,), dtype=np.float32)
        self.observation_space = self._observation_space()
        self.last_observation: Observation | None = None
        self.elapsed_steps = 0

    def _observation_space(self) -> gym.spaces.Space:
        if self.obs_mode == "state":
            dim = PROPRIO_DIM + self.task.state_dim
            return gym.spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)
        spaces: dict[str, gym.spaces.Space] = {
            "state": gym.spaces.Box(-np.inf, np.inf, shape=(PROPRIO_DIM,), dtype=np.float32)
        }
        for cam in self.robot.spec.cameras:
            spaces[cam.name] = gym.spaces.Box(0, 255, shape=(cam.height, cam.width, 3), dtype=np.uint8)
        return gym.spaces.Dict(spaces)

    def policy_observation(self, obs: Observation) -> Any:
        """What the policy sees of a raw robot observation, in this env's obs_mode."""
        if self.obs_mode == "state":
            return np.concatenate([obs.proprio(), self.task.state_features(obs)])
        out: dict[str, np.ndarray] = {"state": obs.proprio()}
        for cam in self.robot.spec.cameras:
            out[cam.name] = obs.images[cam.name]
        return out

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if not self.robot.is_connected:
            self.robot.connect()
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        obs = self.robot.reset(seed=seed)
        self.actions.hold_quat = obs.ee_quat.copy()
        self.last_observation = obs
        self.elapsed_steps = 0
        return self.policy_observation(obs), {"success": False, "robot_timestamp": obs.timestamp}

    def step(self, action):
        assert self.last_observation is not None, "call reset() before step()"
        robot_action = self.actions.to_robot(action, self.last_observation.ee_quat)
        applied = self.robot.send_action(robot_action)
        obs = self.robot.get_observation()
        self.last_observation = obs
        self.elapsed_steps += 1
        success = self.task.success(obs)
        if self.reward_mode == "shaped":
            reward = self.task.shaped_reward(obs)
        else:
            reward = float(success) if self.reward_mode == "sparse" else 0.0
        terminated = success and self.reward_mode == "sparse"
        truncated = self.elapsed_steps >= self.task.max_episode_steps and not terminated
        info = {"success": success, "applied_action": applied, "robot_timestamp": obs.timestamp}
        return self.policy_observation(obs), reward, terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self.last_observation is None:
            return None
        images = self.last_observation.images
        return images.get("scene", next(iter(images.values()), None))

    def close(self) -> None:
        if self.robot.is_connected:
            self.robot.disconnect()
