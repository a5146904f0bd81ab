"""The robot registry's simulated types: derived from the registered config classes, lazily."""

import subprocess
import sys

import pytest

from fleetrl.hardware.registry import ROBOTS, is_simulated, simulated_robot_type, simulated_robot_types


def test_simulated_types_come_from_the_registered_config_classes():
    assert simulated_robot_types() == ("sim_arx", "sim_panda")
    assert not is_simulated("fake") and not is_simulated("ur5")  # a real-like fake; an unregistered name
    ROBOTS.register("sim_panda_copy", "fleetrl.hardware.robots.sim_panda.robot:SimPanda")  # one registry line
    try:
        assert "sim_panda_copy" in simulated_robot_types()
    finally:
        ROBOTS.unregister("sim_panda_copy")


def test_a_command_line_robot_type_must_be_simulated():
    assert simulated_robot_type("sim_arx") == "sim_arx"
    with pytest.raises(ValueError, match="'franka' is not a simulated robot type"):
        simulated_robot_type("franka")


def test_importing_the_registry_and_the_task_factory_imports_no_simulator():
    code = "import sys, fleetrl.hardware.registry, fleetrl.envs.factory; print('mujoco' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
