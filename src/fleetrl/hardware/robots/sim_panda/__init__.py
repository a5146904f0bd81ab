"""The simulated Franka Panda (`type: sim_panda`)."""

from fleetrl.hardware.robots.sim_panda.config import SimPandaConfig
from fleetrl.hardware.robots.sim_panda.robot import PANDA, SimPanda

__all__ = ["PANDA", "SimPanda", "SimPandaConfig"]
