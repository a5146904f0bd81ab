import numpy as np
import pytest

from fleetrl.core.errors import UnsafeActionError
from fleetrl.hardware.safety import SafetyLimits, check_finite, clip_action

LIMITS = SafetyLimits(
    workspace_low=(0.3, -0.2, 0.01),
    workspace_high=(0.7, 0.2, 0.4),
    max_translation_per_step=0.03,
    max_rotation_per_step=0.1,
)
CENTRE = np.array([0.5, 0.0, 0.2])


def test_small_action_passes_unchanged():
    action = np.array([0.01, -0.005, 0.002, 0.02, 0.0, -0.01, 0.7])
    np.testing.assert_array_equal(clip_action(action, CENTRE, LIMITS), action)


def test_huge_translation_is_limited_in_length_keeping_direction():
    applied = clip_action([10.0, 10.0, 0.0, 0, 0, 0, 0], CENTRE, LIMITS)
    assert np.linalg.norm(applied[:3]) == pytest.approx(0.03)
    assert applied[0] == pytest.approx(applied[1])


def test_target_outside_box_is_clipped_onto_its_face():
    at_edge = np.array([0.69, 0.0, 0.2])
    applied = clip_action([0.03, 0, 0, 0, 0, 0, 0], at_edge, LIMITS)
    assert at_edge[0] + applied[0] == pytest.approx(0.7)


def test_hand_outside_box_is_brought_back_no_faster_than_the_step_limit():
    outside = np.array([0.9, 0.0, 0.2])
    applied = clip_action([0.0, 0, 0, 0, 0, 0, 0], outside, LIMITS)
    assert applied[0] == pytest.approx(-0.03)


def test_rotation_and_gripper_are_clipped():
    applied = clip_action([0, 0, 0, 3.0, 4.0, 0.0, 5.0], CENTRE, LIMITS)
    assert np.linalg.norm(applied[3:6]) == pytest.approx(0.1)
    assert applied[6] == 1.0
    assert clip_action([0, 0, 0, 0, 0, 0, -2.0], CENTRE, LIMITS)[6] == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_action_is_refused_naming_the_component(bad):
    action = [0.0, 0.0, bad, 0.0, 0.0, 0.0, 0.0]
    with pytest.raises(UnsafeActionError, match="dz"):
        clip_action(action, CENTRE, LIMITS)


def test_wrong_shape_and_non_numeric_are_refused():
    with pytest.raises(UnsafeActionError, match="shape"):
        check_finite([0.0] * 6)
    with pytest.raises(UnsafeActionError, match="not numeric"):
        check_finite(["a"] * 7)


def test_limits_reject_an_inverted_box():
    with pytest.raises(ValueError, match="workspace_low"):
        SafetyLimits(workspace_low=(0.5, 0, 0), workspace_high=(0.4, 1, 1))


def test_random_wild_actions_always_land_inside_limits():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        pos = rng.uniform(0.0, 1.0, size=3)
        action = rng.normal(scale=rng.choice([0.01, 1.0, 1e6]), size=7)
        applied = clip_action(action, pos, LIMITS)
        assert np.linalg.norm(applied[:3]) <= 0.03 + 1e-12
        assert np.linalg.norm(applied[3:6]) <= 0.1 + 1e-12
        assert 0.0 <= applied[6] <= 1.0
        if np.all(pos >= LIMITS.workspace_low) and np.all(pos <= LIMITS.workspace_high):
            target = pos + applied[:3]
            assert np.all(target >= np.array(LIMITS.workspace_low) - 1e-12)
            assert np.all(target <= np.array(LIMITS.workspace_high) + 1e-12)
