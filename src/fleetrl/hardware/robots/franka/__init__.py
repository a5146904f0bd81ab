"""A real Franka arm (Panda or FR3 with a Franka Hand) driven through franky, with RealSense cameras.

Importing this package does not import franky or pyrealsense2; `connect()` does, and names the pip
extra to install when either is missing.
"""

from fleetrl.hardware.robots.franka.config import FrankaConfig
from fleetrl.hardware.robots.franka.robot import FrankaRobot

__all__ = ["FrankaConfig", "FrankaRobot"]
