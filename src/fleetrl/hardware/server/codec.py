"""Conversions between fleetrl's robot types and the messages of `robot.proto`.

Contract: `observation_from_message(observation_to_message(obs))` equals `obs` field for field,
with float64 arrays bit-identical (they travel as IEEE doubles), uint8 images byte-identical
and dict key order kept. Decoded arrays are fresh and writable: the receiver owns them, as it
would own the arrays of a local robot.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from fleetrl.core.types import CameraSpec, Health, Observation, RobotSpec
from fleetrl.hardware.server import robot_pb2 as pb


def _f64(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


# -- RobotSpec -----------------------------------------------------------------------------------


def spec_to_message(spec: RobotSpec) -> pb.RobotSpec:
    return pb.RobotSpec(
        name=spec.name,
        kind=spec.kind,
        dof=spec.dof,
        joint_lower=spec.joint_lower,
        joint_upper=spec.joint_upper,
        control_hz=spec.control_hz,
        cameras=[pb.CameraSpec(name=c.name, height=c.height, width=c.width, mount=c.mount) for c in spec.cameras],
        scene=spec.scene,
    )


def spec_from_message(msg: pb.RobotSpec) -> RobotSpec:
    return RobotSpec(
        name=msg.name,
        kind=msg.kind,
        dof=msg.dof,
        joint_lower=tuple(msg.joint_lower),
        joint_upper=tuple(msg.joint_upper),
        control_hz=msg.control_hz,
        cameras=tuple(CameraSpec(c.name, c.height, c.width, c.mount) for c in msg.cameras),
        scene=msg.scene,
    )


# -- images and named arrays ---------------------------------------------------------------------


def image_to_message(name: str, image: np.ndarray) -> pb.Image:
    """Encode one (H, W, C) or (H, W) uint8 frame; `ValueError` for any other dtype or rank."""
    if image.dtype != np.uint8:
        raise ValueError(f"camera {name!r}: images must be uint8, got {image.dtype}")
    if image.ndim not in (2, 3):
        raise ValueError(f"camera {name!r}: images must be (H, W, C) or (H, W), got shape {image.shape}")
    channels = image.shape[2] if image.ndim == 3 else 0
    return pb.Image(
        name=name,
        height=image.shape[0],
        width=image.shape[1],
        channels=channels,
        data=np.ascontiguousarray(image).tobytes(),
    )


def image_from_message(msg: pb.Image) -> np.ndarray:
    shape = (msg.height, msg.width, msg.channels) if msg.channels else (msg.height, msg.width)
    expected = int(np.prod(shape))
    if len(msg.data) != expected:
        raise ValueError(f"camera {msg.name!r}: {len(msg.data)} bytes do not fill shape {shape}")
    # frombuffer views the immutable message bytes; copy so the caller owns a writable array.
    return np.frombuffer(msg.data, dtype=np.uint8).reshape(shape).copy()


def array_to_message(name: str, array: np.ndarray) -> pb.NamedArray:
    arr = _f64(array)
    return pb.NamedArray(name=name, shape=arr.shape, values=arr.ravel().tolist())


def array_from_message(msg: pb.NamedArray) -> np.ndarray:
    return _f64(msg.values).reshape(tuple(msg.shape))


# -- Observation ---------------------------------------------------------------------------------


def observation_to_message(obs: Observation) -> pb.Observation:
    return pb.Observation(
        timestamp=obs.timestamp,
        joint_pos=_f64(obs.joint_pos).tolist(),
        joint_vel=_f64(obs.joint_vel).tolist(),
        ee_pos=_f64(obs.ee_pos).tolist(),
        ee_quat=_f64(obs.ee_quat).tolist(),
        gripper=float(obs.gripper),
        images=[image_to_message(name, image) for name, image in obs.images.items()],
        image_timestamps={name: float(t) for name, t in obs.image_timestamps.items()},
        task_state=[array_to_message(name, value) for name, value in obs.task_state.items()],
    )


def observation_from_message(msg: pb.Observation) -> Observation:
    images = {image.name: image_from_message(image) for image in msg.images}
    # Protobuf maps have no order: list cameras in image order, then any others by name.
    stamps = dict(msg.image_timestamps)
    names = [n for n in images if n in stamps] + sorted(n for n in stamps if n not in images)
    return Observation(
        timestamp=msg.timestamp,
        joint_pos=_f64(msg.joint_pos),
        joint_vel=_f64(msg.joint_vel),
        ee_pos=_f64(msg.ee_pos),
        ee_quat=_f64(msg.ee_quat),
        gripper=msg.gripper,
        images=images,
        image_timestamps={name: stamps[name] for name in names},
        task_state={array.name: array_from_message(array) for array in msg.task_state},
    )


# -- Health and actions --------------------------------------------------------------------------


def health_to_message(health: Health) -> pb.HealthReply:
    msg = pb.HealthReply(status=health.status, detail=health.detail)
    if health.latency_ms is not None:
        msg.latency_ms = health.latency_ms
    return msg


def health_from_message(msg: pb.HealthReply) -> Health:
    latency = msg.latency_ms if msg.HasField("latency_ms") else None
    return Health(msg.status, msg.detail, latency)


def action_to_list(action: np.ndarray) -> list[float]:
    return _f64(action).ravel().tolist()


def action_from_list(values: Iterable[float]) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64)
