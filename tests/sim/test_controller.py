"""The end-effector controller: rotation helpers, IK accuracy, limits and the null-space pull."""

from __future__ import annotations

import numpy as np
import pytest

from fleetrl.hardware.robots.sim_arx import ARX_L5
from fleetrl.hardware.robots.sim_panda import PANDA
from fleetrl.sim.controller import DOWN_QUAT, EndEffectorController, quat_error, rotate_quat
from fleetrl.sim.scene import build_model
from fleetrl.sim.scenes import Scene


def _controller(arm) -> EndEffectorController:
    model = build_model(arm.model_file, Scene(), (0.4, 0.0))
    return EndEffectorController(model, arm.joint_names, "tcp", np.array(arm.home_seed))


def test_rotate_then_measure_round_trips() -> None:
    turn = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(quat_error(rotate_quat(DOWN_QUAT, turn), DOWN_QUAT), turn, atol=1e-9)
    np.testing.assert_array_equal(rotate_quat(DOWN_QUAT, np.zeros(3)), DOWN_QUAT)
    # q and -q are the same rotation: no error between them
    np.testing.assert_allclose(quat_error(-DOWN_QUAT, DOWN_QUAT), np.zeros(3), atol=1e-12)


@pytest.mark.parametrize("arm,targets", [
    (PANDA, [(0.5, 0.0, 0.18), (0.4, 0.2, 0.05), (0.65, -0.2, 0.3)]),
    (ARX_L5, [(0.25, 0.0, 0.13), (0.18, 0.12, 0.03), (0.35, -0.1, 0.08)]),
], ids=["panda", "arx"])
def test_ik_reaches_hand_down_poses_in_reach(arm, targets) -> None:
    controller = _controller(arm)
    for target in targets:
        q = controller.solve(np.array(target), DOWN_QUAT, controller.q_home, iterations=200)
        pos, quat = controller.site_pose(q)
        assert np.linalg.norm(pos - target) < 1e-4
        assert np.linalg.norm(quat_error(DOWN_QUAT, quat)) < 1e-3


def test_ik_clips_to_the_joint_limits_when_out_of_reach() -> None:
    controller = _controller(ARX_L5)
    q = controller.solve(np.array([1.5, 0.0, 1.0]), DOWN_QUAT, controller.q_home, iterations=100)
    assert np.all(q >= controller.lower) and np.all(q <= controller.upper)


def test_null_space_pulls_the_panda_toward_home_without_moving_the_hand() -> None:
    controller = _controller(PANDA)
    home = controller.solve(np.array([0.5, 0.0, 0.18]), DOWN_QUAT, controller.q_home, iterations=200)
    controller.q_home = home
    pos, quat = controller.site_pose(home)
    # Same hand pose, elbow swung away: joints 1 and 3 counter-rotate.
    swung = controller.solve(pos, quat, home + np.array([0.3, 0, -0.3, 0, 0, 0, 0]), iterations=1)
    before = np.linalg.norm(swung - home)
    settled = controller.solve(pos, quat, swung, iterations=30)
    assert np.linalg.norm(settled - home) < before
    assert np.linalg.norm(controller.site_pose(settled)[0] - pos) < 1e-3


def test_target_does_not_wind_up_when_the_hand_is_blocked() -> None:
    controller = _controller(PANDA)
    q = controller.solve(np.array([0.5, 0.0, 0.18]), DOWN_QUAT, controller.q_home, iterations=200)
    controller.reset(q)
    for _ in range(10):  # commanded down 30 cm while the measured joints never move
        controller.step(q, np.array([0.0, 0.0, -0.03, 0.0, 0.0, 0.0, 0.0]))
    lead = controller.target_pos - controller.site_pose(q)[0]
    assert np.linalg.norm(lead) <= controller.MAX_LAG[0] + 0.03 + 1e-9
