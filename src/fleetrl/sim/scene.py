"""Composing one MuJoCo model: a robot, the table, two cameras and the props of a named scene.

Frames: the robot's base is at the origin and is the world frame; the table top is the plane
z = 0. Every model has a fixed camera "scene" looking at the workspace around the task origin and
a camera "wrist" on the hand looking past the fingertips.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from fleetrl.sim.scenes import Scene

MODELS_DIR = Path(__file__).parent / "models"

TIMESTEP = 0.002
"""Physics timestep, seconds. Small enough for stiff finger contacts on a 4 cm cube."""

SCENE_CAMERA_OFFSET = np.array([0.32, 0.26, 0.28])
"""Position of the scene camera relative to the task origin on the table, metres."""

WRIST_CAMERA_POS = np.array([0.07, 0.0, -0.09])
"""Position of the wrist camera in the tool-centre frame (z out of the gripper), metres."""

WRIST_CAMERA_TARGET = np.array([0.0, 0.0, 0.06])
"""The point, in the tool-centre frame, the wrist camera looks at: just past the fingertips."""


def look_at_quat(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The (4,) wxyz orientation of a MuJoCo camera at `eye` looking at `target` with `up` up.

    MuJoCo cameras look along their -z axis with +y up in the image.
    """
    z_axis = eye - target
    z_axis = z_axis / np.linalg.norm(z_axis)
    x_axis = np.cross(up, z_axis)
    x_axis = x_axis / np.linalg.norm(x_axis)
    y_axis = np.cross(z_axis, x_axis)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([x_axis, y_axis, z_axis]).flatten())
    return quat


def _quat_to_mat(quat: np.ndarray) -> np.ndarray:
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=np.float64) / np.linalg.norm(quat))
    return mat.reshape(3, 3)


def _add_table_and_light(spec: mujoco.MjSpec, origin: tuple[float, float]) -> None:
    spec.worldbody.add_geom(
        name="table",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[0.6, 0.6, 0.02],
        pos=[origin[0] - 0.1, origin[1], -0.02],
        friction=[1.0, 0.01, 0.001],
        rgba=[0.62, 0.5, 0.38, 1.0],
    )
    spec.worldbody.add_light(
        name="top", pos=[origin[0], origin[1], 1.5], dir=[0.0, 0.0, -1.0], castshadow=False, diffuse=[0.6, 0.6, 0.6]
    )


def _add_cameras(spec: mujoco.MjSpec, origin: tuple[float, float]) -> None:
    target = np.array([origin[0], origin[1], 0.05])
    eye = target + SCENE_CAMERA_OFFSET - np.array([0.0, 0.0, 0.05])
    spec.worldbody.add_camera(name="scene", pos=eye, quat=look_at_quat(eye, target, np.array([0.0, 0.0, 1.0])), fovy=50)

    # The wrist camera rides on the hand; place it relative to the tool centre, then express
    # that pose in the hand's frame (the tool-centre site's pose in the hand).
    tcp = spec.site("tcp")
    tcp_rot = _quat_to_mat(tcp.quat)
    cam_quat_in_tcp = look_at_quat(WRIST_CAMERA_POS, WRIST_CAMERA_TARGET, np.array([1.0, 0.0, 0.0]))
    quat = np.zeros(4)
    mujoco.mju_mulQuat(quat, np.asarray(tcp.quat, dtype=np.float64) / np.linalg.norm(tcp.quat), cam_quat_in_tcp)
    spec.body("hand").add_camera(
        name="wrist", pos=np.asarray(tcp.pos) + tcp_rot @ WRIST_CAMERA_POS, quat=quat, fovy=75
    )


def build_model(robot_xml: str, scene: Scene, origin: tuple[float, float]) -> mujoco.MjModel:
    """Compile the robot model file `robot_xml` (in sim/models) with table, cameras and props.

    `origin` is the robot's task origin (x, y) on the table, metres; the cameras look at it and
    the scene lays its props out around it.
    """
    spec = mujoco.MjSpec.from_file(str(MODELS_DIR / robot_xml))
    spec.option.timestep = TIMESTEP
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.visual.quality.offsamples = 0
    _add_table_and_light(spec, origin)
    _add_cameras(spec, origin)
    scene.add_props(spec, origin)
    return spec.compile()
