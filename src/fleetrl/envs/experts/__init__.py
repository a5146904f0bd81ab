"""Scripted experts: controllers that read the true task state and play the human teleoperator.

They make tasks demonstrably solvable, record demonstrations, and stand in for a person in the
human-in-the-loop path, so that path runs unattended in tests and benchmarks.
"""

from fleetrl.envs.experts.base import ScriptedExpert
from fleetrl.envs.experts.peg_insertion import PegInsertionExpert
from fleetrl.envs.experts.pick_cube import PickCubeExpert

EXPERTS: dict[str, type[ScriptedExpert]] = {"pick_cube": PickCubeExpert, "peg_insertion": PegInsertionExpert}


def expert_for(env) -> ScriptedExpert:
    """The scripted expert of `env`'s task (a `RobotEnv`, possibly wrapped)."""
    inner = env.unwrapped
    return EXPERTS[inner.task.name](inner)


__all__ = ["EXPERTS", "PegInsertionExpert", "PickCubeExpert", "ScriptedExpert", "expert_for"]
