"""The tasks fleetrl ships, by name."""

from fleetrl.envs.task import Task
from fleetrl.envs.tasks.peg_insertion import PegInsertion
from fleetrl.envs.tasks.pick_cube import PickCube

TASKS: dict[str, type[Task]] = {"pick_cube": PickCube, "peg_insertion": PegInsertion}

__all__ = ["TASKS", "PegInsertion", "PickCube"]
