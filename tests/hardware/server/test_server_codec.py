"""Round trips through the wire messages keep every value bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from fleetrl.core.types import CameraSpec, Health, Observation, RobotSpec
from fleetrl.hardware.server import codec
from fleetrl.hardware.server import robot_pb2 as pb


def wire(message):
    """Serialise and parse, as the network does."""
    return type(message).FromString(message.SerializeToString())


def assert_bits_equal(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def awkward_floats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values whose last bits a lossy encoding (float32, text) would change."""
    base = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)
    base[:3] = [np.nextafter(0.1, 1.0), -0.0, 5e-324][: min(3, n)]
    return base


def make_observation(seed: int = 0) -> Observation:
    rng = np.random.default_rng(seed)
    return Observation(
        timestamp=1_700_000_000.123456789,
        joint_pos=awkward_floats(rng, 7),
        joint_vel=awkward_floats(rng, 7),
        ee_pos=awkward_floats(rng, 3),
        ee_quat=rng.standard_normal(4),
        gripper=float(np.nextafter(0.5, 1.0)),
        images={
            "wrist": rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
            "scene": rng.integers(0, 256, (32, 40, 3), dtype=np.uint8),
            "depth": rng.integers(0, 256, (8, 9), dtype=np.uint8),
        },
        image_timestamps={"wrist": 1_700_000_000.1, "scene": 1_700_000_000.2, "depth": 1.5},
        task_state={"cube_pos": awkward_floats(rng, 3), "grid": rng.standard_normal((2, 3)), "scalar": np.array(2.5)},
    )


def test_observation_round_trip_is_bit_identical() -> None:
    obs = make_observation()
    back = codec.observation_from_message(wire(codec.observation_to_message(obs)))
    assert back.timestamp == obs.timestamp and back.gripper == obs.gripper
    for name in ("joint_pos", "joint_vel", "ee_pos", "ee_quat"):
        assert_bits_equal(getattr(back, name), getattr(obs, name))
    assert list(back.images) == list(obs.images)  # key order kept
    for name, image in obs.images.items():
        assert_bits_equal(back.images[name], image)
        assert back.images[name].flags.writeable
    assert back.image_timestamps == obs.image_timestamps
    assert list(back.image_timestamps) == list(obs.image_timestamps)
    assert list(back.task_state) == list(obs.task_state)
    for name, value in obs.task_state.items():
        assert_bits_equal(back.task_state[name], np.asarray(value, dtype=np.float64))


def test_observation_without_cameras_or_task_state() -> None:
    obs = Observation(0.0, np.zeros(6), np.zeros(6), np.zeros(3), np.array([1.0, 0, 0, 0]), 0.0)
    back = codec.observation_from_message(wire(codec.observation_to_message(obs)))
    assert back.images == {} and back.image_timestamps == {} and back.task_state == {}
    assert_bits_equal(back.joint_pos, obs.joint_pos)


def test_decoded_values_are_finite_when_sent_finite() -> None:
    back = codec.observation_from_message(wire(codec.observation_to_message(make_observation(3))))
    for array in (back.joint_pos, back.joint_vel, back.ee_pos, back.ee_quat, *back.task_state.values()):
        assert np.all(np.isfinite(array))


def test_non_uint8_image_is_refused() -> None:
    obs = make_observation()
    obs.images["wrist"] = obs.images["wrist"].astype(np.float32)
    with pytest.raises(ValueError, match="wrist.*uint8"):
        codec.observation_to_message(obs)


def test_truncated_image_bytes_are_refused() -> None:
    msg = pb.Image(name="wrist", height=4, width=4, channels=3, data=b"\x00" * 10)
    with pytest.raises(ValueError, match="do not fill"):
        codec.image_from_message(msg)


def test_spec_round_trip() -> None:
    spec = RobotSpec(
        name="panda-1",
        kind="sim_panda",
        dof=7,
        joint_lower=tuple(np.linspace(-2.8973, -0.0175, 7)),
        joint_upper=tuple(np.linspace(0.0175, 2.8973, 7)),
        control_hz=10.0,
        cameras=(CameraSpec("wrist", 96, 128, "wrist"), CameraSpec("front", 128, 128, "scene")),
        scene="cube",
    )
    assert codec.spec_from_message(wire(codec.spec_to_message(spec))) == spec


@pytest.mark.parametrize("health", [Health("ok"), Health("degraded", "hot motor", 3.25), Health("down", "e-stop")])
def test_health_round_trip(health: Health) -> None:
    assert codec.health_from_message(wire(codec.health_to_message(health))) == health


def test_action_round_trip() -> None:
    action = awkward_floats(np.random.default_rng(1), 7)
    message = wire(pb.ActionRequest(action=codec.action_to_list(action)))
    assert_bits_equal(codec.action_from_list(message.action), action)
