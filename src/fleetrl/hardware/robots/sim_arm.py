"""`SimArm`: a MuJoCo arm with a parallel gripper behind the `Robot` contract.

One class serves every simulated arm; a robot folder supplies its `ArmModel` (model file, joint
names and limits, home posture) and its config defaults. A control period is simulated in one
call: the end-effector controller turns the safe action into joint targets for the position
servos, then the physics runs `substeps` timesteps. Resets are seeded and deterministic: the same
seed gives bit-identical observations (except the timestamps). A simulated robot can be
"unplugged" (`unplug()`), after which it behaves like a robot whose cable was pulled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mujoco
import numpy as np
from pydantic import Field, field_validator

from fleetrl.core.errors import RobotConnectionError
from fleetrl.core.types import Health, Observation, RobotSpec
from fleetrl.hardware.robot_base import SafeRobot
from fleetrl.hardware.robot_config import CameraConfig, RobotConfig
from fleetrl.sim.controller import DOWN_QUAT, EndEffectorController
from fleetrl.sim.renderer import CameraRenderer
from fleetrl.sim.scene import build_model
from fleetrl.sim.scenes import SCENES, make_scene


def _default_cameras() -> list[CameraConfig]:
    return [CameraConfig(name="wrist", mount="wrist"), CameraConfig(name="scene", mount="scene")]


class SimArmConfig(RobotConfig):
    """Fields every simulated arm's config has; a robot folder overrides `type` and defaults."""

    simulated = True

    control_hz: float = Field(10.0, gt=0, le=1000, description="Control rate in Hz; one action per period.")
    paced: bool = Field(False, description="Return from send_action on the wall-clock control rate.")
    cameras: list[CameraConfig] = Field(
        default_factory=_default_cameras,
        description="Cameras rendered into every observation; [] for state-only observations.",
    )
    scene: str = Field("empty", description="Props around the robot: 'empty', 'pick_cube' or 'peg_insertion'.")
    task_origin: tuple[float, float] = Field(
        (0.5, 0.0), description="Centre (x, y) of the task area on the table, metres, base frame."
    )

    @field_validator("scene")
    @classmethod
    def _known_scene(cls, value: str) -> str:
        if value not in SCENES:
            raise ValueError(f"unknown scene {value!r}; known scenes: {', '.join(sorted(SCENES))}")
        return value


@dataclass(frozen=True)
class ArmModel:
    """What the simulator needs to know about one arm model.

    `joint_lower`/`joint_upper` must equal the model file's joint ranges (radians); `home_seed`
    is a posture near "hand down above the task area" from which the home pose is solved;
    `home_height` is the tool centre's height above the table at home, metres (within the arm's
    reach with the hand pointing down). `finger_open` is each finger's travel when fully open, metres.
    """

    kind: str
    model_file: str
    joint_names: tuple[str, ...]
    joint_lower: tuple[float, ...]
    joint_upper: tuple[float, ...]
    home_seed: tuple[float, ...]
    home_height: float
    finger_open: float

    @property
    def dof(self) -> int:
        return len(self.joint_names)


FINGER_JOINTS = ("finger_left", "finger_right")
FINGER_ACTUATORS = ("act_finger_left", "act_finger_right")
HOME_IK_ITERATIONS = 200
_DIVERGENCE_WARNINGS = (
    mujoco.mjtWarning.mjWARN_BADQPOS,
    mujoco.mjtWarning.mjWARN_BADQVEL,
    mujoco.mjtWarning.mjWARN_BADQACC,
)


def _damp_servos_at(
    model: mujoco.MjModel, q: np.ndarray, qpos_adr: np.ndarray, dof_adr: np.ndarray, actuators: np.ndarray
) -> None:
    """Set the arm servos' velocity gains to damp them critically in posture `q`.

    MuJoCo's `dampratio` uses the joint inertia at the model's zero posture (arm straight up for
    the Panda), where the base joints carry far less inertia than over the table; the servos then
    overshoot. Here kv = 2 sqrt(kp (I + armature)) with the inertia of the working posture.
    """
    data = mujoco.MjData(model)
    data.qpos[qpos_adr] = q
    mujoco.mj_forward(model, data)  # qM includes the joints' armature
    inertia = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, inertia, data.qM)
    for act, dof in zip(actuators, dof_adr):
        kp = model.actuator_gainprm[act, 0]
        model.actuator_biasprm[act, 2] = -2.0 * np.sqrt(kp * inertia[dof, dof])


class SimArm(SafeRobot):
    """A simulated arm. Build with its config and `ArmModel`; the model compiles on connect."""

    def __init__(self, config: SimArmConfig, arm: ArmModel) -> None:
        self.config = config
        self.arm = arm
        spec = RobotSpec(
            name=config.robot_name(),
            kind=arm.kind,
            dof=arm.dof,
            joint_lower=arm.joint_lower,
            joint_upper=arm.joint_upper,
            control_hz=config.control_hz,
            cameras=tuple(cam.to_spec() for cam in config.cameras),
            scene=config.scene,
        )
        super().__init__(spec, config.safety, config.paced)
        self.scene = make_scene(config.scene)
        self.model: mujoco.MjModel | None = None
        self.data: mujoco.MjData | None = None
        self.controller: EndEffectorController | None = None
        self.renderer: CameraRenderer | None = None
        self.unplugged = False
        self._faulted = ""

    # -- fault injection -----------------------------------------------------------------------

    def unplug(self) -> None:
        """Behave like a pulled cable: health "down", and every call raises RobotConnectionError."""
        self.unplugged = True

    def replug(self) -> None:
        """Undo `unplug()`; the simulation continues from where it was."""
        self.unplugged = False

    def _require_link(self) -> tuple[mujoco.MjModel, mujoco.MjData, EndEffectorController]:
        if self.unplugged:
            raise RobotConnectionError(f"robot {self.spec.name!r} is unplugged (no link to the arm)")
        assert self.model is not None and self.data is not None and self.controller is not None
        return self.model, self.data, self.controller

    # -- SafeRobot hooks -----------------------------------------------------------------------

    def _connect(self) -> None:
        model = build_model(self.arm.model_file, self.scene, self.config.task_origin)
        self.model = model
        self.data = mujoco.MjData(model)
        self._arm_qpos = np.array([model.jnt_qposadr[model.joint(n).id] for n in self.arm.joint_names])
        self._arm_dof = np.array([model.jnt_dofadr[model.joint(n).id] for n in self.arm.joint_names])
        self._arm_ctrl = np.array([model.actuator(f"act{i + 1}").id for i in range(self.arm.dof)])
        self._finger_qpos = np.array([model.jnt_qposadr[model.joint(n).id] for n in FINGER_JOINTS])
        self._finger_ctrl = np.array([model.actuator(n).id for n in FINGER_ACTUATORS])
        self._tcp = model.site("tcp").id
        self._substeps = max(1, round(self.spec.control_period_s / model.opt.timestep))
        self.controller = EndEffectorController(model, self.arm.joint_names, "tcp", np.array(self.arm.home_seed))
        origin = self.config.task_origin
        self.home = np.array([origin[0], origin[1], self.arm.home_height])
        self.controller.q_home = self.controller.solve(self.home, DOWN_QUAT, self.controller.q_home, HOME_IK_ITERATIONS)
        self.controller.reset(self.controller.q_home)
        _damp_servos_at(model, self.controller.q_home, self._arm_qpos, self._arm_dof, self._arm_ctrl)
        if self.spec.cameras:
            self.renderer = CameraRenderer(model, self.spec.cameras)
        self._reset(0)

    def _disconnect(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def _reset(self, seed: int | None) -> Observation:
        model, data, controller = self._require_link()
        rng = np.random.default_rng(seed)
        mujoco.mj_resetData(model, data)
        start = self.scene.reset(model, data, rng, self.home)
        q_start = controller.solve(start, DOWN_QUAT, controller.q_home, HOME_IK_ITERATIONS)
        data.qpos[self._arm_qpos] = q_start
        data.ctrl[self._arm_ctrl] = q_start
        self._set_gripper(self.scene.start_gripper)
        data.qpos[self._finger_qpos] = data.ctrl[self._finger_ctrl]
        mujoco.mj_forward(model, data)
        controller.reset(q_start)
        self._faulted = ""
        return self._observe()

    def _set_gripper(self, command: float) -> None:
        assert self.data is not None
        self.data.ctrl[self._finger_ctrl] = self.arm.finger_open * (1.0 - command)

    def _observe(self) -> Observation:
        model, data, _ = self._require_link()
        ee_quat = np.zeros(4)
        mujoco.mju_mat2Quat(ee_quat, data.site_xmat[self._tcp])
        fingers = float(np.mean(data.qpos[self._finger_qpos]))
        images = self.renderer.render(data) if self.renderer is not None else {}
        now = time.time()
        return Observation(
            timestamp=now,
            joint_pos=data.qpos[self._arm_qpos].copy(),
            joint_vel=data.qvel[self._arm_dof].copy(),
            ee_pos=data.site_xpos[self._tcp].copy(),
            ee_quat=ee_quat,
            gripper=float(np.clip(1.0 - fingers / self.arm.finger_open, 0.0, 1.0)),
            images=images,
            image_timestamps={name: now for name in images},
            task_state=self.scene.task_state(model, data),
        )

    def _current_ee_pos(self) -> np.ndarray:
        _, data, _ = self._require_link()
        return data.site_xpos[self._tcp].copy()

    def _apply_action(self, action: np.ndarray) -> None:
        model, data, controller = self._require_link()
        data.ctrl[self._arm_ctrl] = controller.step(data.qpos[self._arm_qpos], action)
        self._set_gripper(float(action[6]))
        mujoco.mj_step(model, data, nstep=self._substeps)
        # mj_step leaves positions-derived quantities one substep stale; refresh them so the
        # observation, the cameras and the workspace check all see the state just reached.
        mujoco.mj_forward(model, data)
        # MuJoCo resets the state itself when it blows up, and counts a warning.
        diverged = any(data.warning[w].number > 0 for w in _DIVERGENCE_WARNINGS)
        if diverged or not (np.all(np.isfinite(data.qpos)) and np.all(np.isfinite(data.qvel))):
            self._faulted = f"simulation diverged (non-finite state) at t={data.time:.3f}s"

    def _health(self) -> Health:
        if self.unplugged:
            return Health("down", f"{self.spec.name}: unplugged")
        if self._faulted:
            return Health("down", f"{self.spec.name}: {self._faulted}; reset() to recover")
        return Health("ok")
