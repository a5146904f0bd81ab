"""The simulated ARX L5 (`type: sim_arx`)."""

from fleetrl.hardware.robots.sim_arx.config import SimArxConfig
from fleetrl.hardware.robots.sim_arx.robot import ARX_L5, SimArx

__all__ = ["ARX_L5", "SimArx", "SimArxConfig"]
