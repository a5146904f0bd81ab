"""Config of the simulated ARX L5 (`type: sim_arx`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetrl.hardware.robots.sim_arm import SimArmConfig
from fleetrl.hardware.safety import SafetyLimits


class SimArxConfig(SimArmConfig):
    """A MuJoCo ARX L5 on a table; every field of `SimArmConfig` plus L5 defaults.

    The L5 is small: with the hand pointing down its tool centre reaches about 0.17 m above the
    table at most, over x = 0.1 .. 0.4 m, so its task area and workspace sit close to the base.
    """

    type: Literal["sim_arx"] = Field("sim_arx", description="Always 'sim_arx'.")
    task_origin: tuple[float, float] = Field(
        (0.25, 0.0), description="Centre (x, y) of the task area on the table, metres, base frame."
    )
    safety: SafetyLimits = Field(
        default_factory=lambda: SafetyLimits(workspace_low=(0.12, -0.22, 0.005), workspace_high=(0.40, 0.22, 0.20)),
        description="Limits every action is clipped to; the workspace box fits the L5's reach.",
    )
