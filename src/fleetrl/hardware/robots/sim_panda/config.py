"""Config of the simulated Franka Panda (`type: sim_panda`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetrl.hardware.robots.sim_arm import SimArmConfig
from fleetrl.hardware.safety import SafetyLimits


class SimPandaConfig(SimArmConfig):
    """A MuJoCo Panda on a table; every field of `SimArmConfig` plus Panda defaults."""

    type: Literal["sim_panda"] = Field("sim_panda", description="Always 'sim_panda'.")
    task_origin: tuple[float, float] = Field(
        (0.5, 0.0), description="Centre (x, y) of the task area on the table, metres, base frame."
    )
    safety: SafetyLimits = Field(
        default_factory=lambda: SafetyLimits(workspace_low=(0.25, -0.30, 0.005), workspace_high=(0.75, 0.30, 0.45)),
        description="Limits every action is clipped to; the workspace box fits the Panda's reach.",
    )
