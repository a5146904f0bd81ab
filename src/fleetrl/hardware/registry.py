"""The robot registry: a config's `type` names the robot class that serves it.

Classes are imported lazily, so that listing a fleet of simulated robots never imports a real
robot's driver library (and a missing driver library fails only for the robot that needs it).
A registered class has a `config_class` (a `RobotConfig` subclass) and a constructor that takes
one instance of it. A new robot is one folder under `hardware/robots/` and one line in `ROBOTS`,
or `ROBOTS.register("name", MyRobot)` from the user's own module.
"""

from __future__ import annotations

from typing import Any

from fleetrl.core.interfaces import Robot
from fleetrl.core.registry import Registry
from fleetrl.hardware.robot_config import RobotConfig

ROBOTS = Registry("robot", {
    "sim_panda": "fleetrl.hardware.robots.sim_panda.robot:SimPanda",
    "sim_arx": "fleetrl.hardware.robots.sim_arx.robot:SimArx",
    "franka": "fleetrl.hardware.robots.franka.robot:FrankaRobot",
    "remote": "fleetrl.hardware.server.remote_robot:RemoteRobot",
    "fake": "fleetrl.hardware.robots.fake.robot:FakeArm",
}, config_of=lambda robot_cls: robot_cls.config_class)


def robot_class(type_name: str) -> type:
    """The robot class registered as `type_name`; `ConfigError` for an unknown type."""
    return ROBOTS.get(type_name)


def is_simulated(type_name: str) -> bool:
    """Whether robot type `type_name` is simulated (its config class says so, `RobotConfig.simulated`);
    False for a name that is not registered. Imports that type's class only (MuJoCo for a simulated one)."""
    return type_name in ROBOTS and bool(robot_class(type_name).config_class.simulated)


def simulated_robot_types() -> tuple[str, ...]:
    """The registered robot types that are simulated, sorted. It asks every registered class, so it
    imports each robot module (not a driver's library, which loads on connect): call it when the
    list is needed, not at import time."""
    return tuple(name for name in ROBOTS.names() if is_simulated(name))


def simulated_robot_type(type_name: str) -> str:
    """`type_name` when it is a simulated robot type, else ValueError (an argparse `type=`: the type
    is checked when it is given, so a command's parser is built without importing any robot)."""
    if not is_simulated(type_name):
        raise ValueError(f"{type_name!r} is not a simulated robot type")
    return type_name


def parse_robot_config(data: Any, where: str = "robot") -> RobotConfig:
    """Validate one robot's config mapping into its type's config class; errors name the key."""
    return ROBOTS.parse(data, where)  # type: ignore[return-value]


def make_robot(config: RobotConfig | dict[str, Any], where: str = "robot") -> Robot:
    """Build (but do not connect) the robot a config describes."""
    if not isinstance(config, RobotConfig):
        config = parse_robot_config(config, where)
    return robot_class(config.type)(config)
