"""Building task environments by name: `fleetrl/PickCube-v0` and friends come through here."""

from __future__ import annotations

import os
from typing import Any

from fleetrl.core.errors import ConfigError
from fleetrl.core.interfaces import Robot
from fleetrl.envs.robot_env import RobotEnv
from fleetrl.envs.tasks import TASKS
from fleetrl.hardware.registry import is_simulated, make_robot, simulated_robot_types

TOKEN_ENV = "FLEETRL_ROBOT_TOKEN"


def _sim_cameras(obs_mode: str, render_mode: str | None, image_size: int) -> list[dict[str, Any]]:
    if obs_mode == "pixels":
        return [
            {"name": "wrist", "height": image_size, "width": image_size, "mount": "wrist"},
            {"name": "scene", "height": image_size, "width": image_size, "mount": "scene"},
        ]
    if render_mode == "rgb_array":
        return [{"name": "scene", "height": image_size, "width": image_size, "mount": "scene"}]
    return []  # state observations render nothing: several times faster


def build_robot(
    robot: str | dict[str, Any] | Robot,
    scene: str,
    obs_mode: str = "state",
    render_mode: str | None = None,
    image_size: int = 128,
    paced: bool = False,
    token: str | None = None,
    timeout_s: float = 5.0,
) -> Robot:
    """A robot for a task: a simulated type name, a robot-server "host:port", a config mapping,
    or an existing `Robot` (used as it is). Simulated robots (`is_simulated`) are built with the
    task's scene and the cameras `obs_mode` needs."""
    if isinstance(robot, Robot):
        return robot
    if isinstance(robot, dict):
        config = dict(robot)
        if is_simulated(str(config.get("type"))):
            config.setdefault("scene", scene)
            config.setdefault("cameras", _sim_cameras(obs_mode, render_mode, image_size))
        return make_robot(config, where="robot")
    if is_simulated(robot):
        config = {"type": robot, "scene": scene, "paced": paced,
                  "cameras": _sim_cameras(obs_mode, render_mode, image_size)}
        return make_robot(config, where="robot")
    if ":" in robot:
        token = token or os.environ.get(TOKEN_ENV)
        if not token:
            raise ConfigError(f"robot {robot!r} is a robot server: pass token= or set {TOKEN_ENV}")
        config = {"type": "remote", "address": robot, "token": token, "timeout_s": timeout_s}
        return make_robot(config, where="robot")
    known = ", ".join(simulated_robot_types())
    raise ConfigError(f"robot: {robot!r} is neither a simulated robot type ({known}), a robot config mapping nor a server 'host:port'")


def make_task_env(
    task: str,
    robot: str | dict[str, Any] | Robot = "sim_panda",
    obs_mode: str = "state",
    reward: str = "sparse",
    image_size: int = 128,
    paced: bool = False,
    token: str | None = None,
    timeout_s: float = 5.0,
    render_mode: str | None = None,
) -> RobotEnv:
    """The environment of `task` ("pick_cube", "peg_insertion") on `robot` (see `build_robot`).

    A served robot must serve the task's scene (start it with `--scene <task scene>`).
    """
    if task not in TASKS:
        raise ConfigError(f"task: unknown task {task!r}; known tasks: {', '.join(sorted(TASKS))}")
    task_obj = TASKS[task]()
    built = build_robot(robot, task_obj.scene, obs_mode, render_mode, image_size, paced, token, timeout_s)
    if is_simulated(built.spec.kind) or built.spec.scene:
        if built.spec.scene != task_obj.scene:
            raise ConfigError(
                f"robot {built.spec.name!r} has scene {built.spec.scene!r} but task {task!r} needs "
                f"scene {task_obj.scene!r} (start its robot server with --scene {task_obj.scene})"
            )
    if obs_mode == "pixels" and not built.spec.cameras:
        raise ConfigError(f"obs_mode 'pixels' needs cameras, and robot {built.spec.name!r} has none")
    return RobotEnv(built, task_obj, obs_mode=obs_mode, reward=reward, render_mode=render_mode)
