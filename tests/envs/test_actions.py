import numpy as np
import pytest

from fleetrl.envs.actions import ActionMap, orientation_error, quat_multiply, quat_to_axis_angle


def axis_angle_quat(axis, angle):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])


def test_axis_angle_round_trip_and_shorter_rotation():
    q = axis_angle_quat([0, 0, 1], 0.3)
    np.testing.assert_allclose(quat_to_axis_angle(q), [0, 0, 0.3], atol=1e-12)
    np.testing.assert_allclose(quat_to_axis_angle(-q), [0, 0, 0.3], atol=1e-12)


def test_orientation_error_takes_current_to_target():
    current = axis_angle_quat([1, 0, 0], 0.2)
    target = axis_angle_quat([0, 1, 0], 0.5)
    err = orientation_error(target, current)
    np.testing.assert_allclose(quat_multiply(axis_angle_quat(err, np.linalg.norm(err)), current), target, atol=1e-12)


def test_xyz_gripper_mode_scales_and_holds_orientation():
    amap = ActionMap("xyz_gripper", max_translation=0.02, max_rotation=0.1)
    amap.hold_quat = np.array([1.0, 0, 0, 0])
    drifted = axis_angle_quat([0, 0, 1], 0.05)
    robot = amap.to_robot(np.array([1.0, -0.5, 2.0, -1.0]), drifted)
    np.testing.assert_allclose(robot[:3], [0.02, -0.01, 0.02])  # 2.0 clipped to 1.0
    np.testing.assert_allclose(robot[3:6], [0, 0, -0.05], atol=1e-12)
    assert robot[6] == 0.0


def test_xyz_mode_holds_the_gripper_closed_and_full_mode_maps_everything():
    assert ActionMap("xyz", 0.03, 0.1).to_robot(np.zeros(3), np.array([1.0, 0, 0, 0]))[6] == 1.0
    full = ActionMap("full", 0.03, 0.1)
    robot = full.to_robot(np.array([0, 0, 0, 1.0, 0, 0, 1.0]), np.array([1.0, 0, 0, 0]))
    np.testing.assert_allclose(robot[3:], [0.1, 0, 0, 1.0])


@pytest.mark.parametrize("mode", ["xyz", "xyz_gripper", "full"])
def test_from_robot_inverts_to_robot(mode):
    amap = ActionMap(mode, 0.03, 0.1)
    action = np.random.default_rng(1).uniform(-1, 1, size=amap.dim)
    back = amap.from_robot(amap.to_robot(action, np.array([1.0, 0, 0, 0])))
    np.testing.assert_allclose(back, action, atol=1e-6)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown action mode"):
        ActionMap("joint", 0.03, 0.1)
