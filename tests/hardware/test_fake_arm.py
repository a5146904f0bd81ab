import numpy as np
import pytest

from fleetrl.core.errors import RobotConnectionError, UnsafeActionError
from fleetrl.hardware.registry import make_robot


def test_fake_arm_follows_the_robot_contract():
    robot = make_robot({"type": "fake", "name": "f0"})
    assert robot.spec.name == "f0" and robot.spec.dof == 7
    assert robot.health().status == "disconnected"
    with pytest.raises(RobotConnectionError, match="not connected"):
        robot.get_observation()
    with robot:
        first = robot.reset(seed=3)
        again = robot.reset(seed=3)
        np.testing.assert_array_equal(first.ee_pos, again.ee_pos)
        assert set(first.images) == {"wrist", "scene"}
        assert first.images["wrist"].shape == (128, 128, 3)
        applied = robot.send_action(np.array([1.0, 0, 0, 0, 0, 0, 0.5]))
        assert applied[0] == pytest.approx(robot.limits.max_translation_per_step)
        assert robot.clipped_steps == 1
        with pytest.raises(UnsafeActionError):
            robot.send_action(np.full(7, np.nan))
        assert len(robot.applied) == 1  # the refused action never reached the driver
        assert robot.health().ok
    assert not robot.is_connected


def test_paced_fake_arm_keeps_its_rate():
    robot = make_robot({"type": "fake", "control_hz": 50.0, "paced": True, "cameras": []})
    with robot:
        robot.reset(seed=0)
        for _ in range(21):
            robot.send_action(np.zeros(7))
        assert robot.rate_report().achieved_hz == pytest.approx(50.0, rel=0.05)
