"""The simulated Franka Panda: 7 joints, a parallel gripper, Franka's kinematics and limits."""

from __future__ import annotations

from fleetrl.hardware.robots.sim_arm import ArmModel, SimArm
from fleetrl.hardware.robots.sim_panda.config import SimPandaConfig

PANDA = ArmModel(
    kind="sim_panda",
    model_file="panda.xml",
    joint_names=tuple(f"joint{i}" for i in range(1, 8)),
    joint_lower=(-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973),
    joint_upper=(2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973),
    home_seed=(0.0, 0.0, 0.0, -2.4, 0.0, 2.4, 0.785),
    home_height=0.18,
    finger_open=0.04,
)


class SimPanda(SimArm):
    """A MuJoCo Panda behind the `Robot` contract (see `fleetrl.hardware.robots.sim_arm.SimArm`)."""

    config_class = SimPandaConfig

    def __init__(self, config: SimPandaConfig) -> None:
        super().__init__(config, PANDA)
