"""The simulated ARX L5: 6 joints, a parallel gripper, the L5's kinematics and limits."""

from __future__ import annotations

from fleetrl.hardware.robots.sim_arm import ArmModel, SimArm
from fleetrl.hardware.robots.sim_arx.config import SimArxConfig

ARX_L5 = ArmModel(
    kind="sim_arx",
    model_file="arx_l5.xml",
    joint_names=tuple(f"joint{i}" for i in range(1, 7)),
    joint_lower=(-3.14, -0.05, -0.10, -1.60, -1.57, -2.0),
    joint_upper=(2.618, 3.50, 3.20, 1.55, 1.57, 2.0),
    home_seed=(0.0, 1.7, 1.2, -1.0, 0.0, 0.0),
    home_height=0.13,
    finger_open=0.044,
)


class SimArx(SimArm):
    """A MuJoCo ARX L5 behind the `Robot` contract (see `fleetrl.hardware.robots.sim_arm.SimArm`)."""

    config_class = SimArxConfig

    def __init__(self, config: SimArxConfig) -> None:
        super().__init__(config, ARX_L5)
