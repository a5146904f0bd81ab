"""Scenes: the task props loaded around a simulated arm, their seeded reset and their state.

A scene adds its props to the model spec once (`add_props`), places them at every reset from a
seeded generator (`reset`, which also says where the hand starts) and reports their state in the
robot base frame (`task_state`). The task layer relies on each scene's `task_state` keys; they are
documented in the scene's module. All positions are metres in the base frame, where the table top
is the plane z = 0. `origin` is the robot's task origin (x, y) on the table and `home` the (3,)
tool-centre position of the robot's home pose above it (how high depends on the arm's reach).
"""

from __future__ import annotations

import importlib

import mujoco
import numpy as np

START_JITTER = 0.025
"""Half-width of the uniform box the hand's start position is drawn from, metres."""


class Scene:
    """The empty scene: no props; the hand starts within `START_JITTER` of the home pose.

    Subclasses override `add_props`, `reset` and `task_state`. `start_gripper` is the gripper
    command (0 open .. 1 closed) the hand starts with.
    """

    name = "empty"
    start_gripper = 0.0

    def add_props(self, spec: mujoco.MjSpec, origin: tuple[float, float]) -> None:
        """Add this scene's bodies to `spec` (the robot's body "hand" and site "tcp" exist)."""

    def reset(
        self, model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator, home: np.ndarray
    ) -> np.ndarray:
        """Place the props in `data` and return the (3,) tool-centre start position, metres.

        The hand starts pointing down; the caller solves the joints for that position.
        """
        return home + rng.uniform(-START_JITTER, START_JITTER, size=3)

    def task_state(self, model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, np.ndarray]:
        """Privileged state of the props, fresh arrays the caller owns."""
        return {}


SCENES: dict[str, str] = {
    "empty": "fleetrl.sim.scenes:Scene",
    "pick_cube": "fleetrl.sim.scenes.pick_cube:PickCube",
    "peg_insertion": "fleetrl.sim.scenes.peg_insertion:PegInsertion",
}


def make_scene(name: str) -> Scene:
    """The scene registered as `name`; `KeyError` naming the known scenes otherwise."""
    try:
        target = SCENES[name]
    except KeyError:
        raise KeyError(f"unknown scene {name!r}; known scenes: {', '.join(sorted(SCENES))}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()
