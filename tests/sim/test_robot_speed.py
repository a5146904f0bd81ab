"""The robot speed benchmark returns its figures (the targets themselves are measured by hand)."""

import pytest

from fleetrl.bench.robot_speed import measure_robot_speed


def test_measure_robot_speed_reports_steps_per_second() -> None:
    result = measure_robot_speed("sim_arx", "state", 20)
    assert set(result) == {"robot", "obs", "steps", "steps_per_s"}
    assert result["robot"] == "sim_arx" and result["steps"] == 20 and result["steps_per_s"] > 0


def test_measure_robot_speed_refuses_unknown_obs() -> None:
    with pytest.raises(ValueError, match="obs"):
        measure_robot_speed("sim_arx", "depth", 10)
