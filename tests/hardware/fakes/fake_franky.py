"""A fake of the part of franky (franky-control 2.0) that fleetrl's Franka driver calls.

Loaded as the module `franky` by a test fixture, one fresh copy per test. Every call on a Robot or
Gripper is appended to the module's `calls` list as (name, args, kwargs). The arm is kinematic:
a relative CartesianMotion is composed on the right of the current pose (franky's documented
meaning: the offset is in the current end-effector frame) and a JointMotion jumps to its target.
Quaternions are (x, y, z, w) as in franky. Tests inject faults through `Robot.errors`,
`Robot.mode`, `Robot.fail_next_move` and `unreachable_hosts`.
"""

from __future__ import annotations

import enum

import numpy as np

calls: list[tuple[str, tuple, dict]] = []
unreachable_hosts: set[str] = set()
robots: list[Robot] = []
grippers: list[Gripper] = []


def _record(name: str, *args, **kwargs) -> None:
    calls.append((name, args, kwargs))


def calls_named(name: str) -> list[tuple[tuple, dict]]:
    return [(args, kwargs) for call, args, kwargs in calls if call == name]


class NetworkException(Exception):
    pass


class ControlException(Exception):
    pass


class ReferenceType(enum.Enum):
    Relative = 0
    Absolute = 1


class RealtimeConfig(enum.Enum):
    Enforce = 0
    Ignore = 1


class RobotMode(enum.Enum):
    Other = 0
    Idle = 1
    Move = 2
    Guiding = 3
    Reflex = 4
    UserStopped = 5
    AutomaticErrorRecovery = 6


def _quat_xyzw_to_matrix(q) -> np.ndarray:
    x, y, z, w = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z],
    ])


def _matrix_to_quat_xyzw(m: np.ndarray) -> np.ndarray:
    w = np.sqrt(max(0.0, 1 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.copysign(np.sqrt(max(0.0, 1 + m[0, 0] - m[1, 1] - m[2, 2])) / 2, m[2, 1] - m[1, 2])
    y = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] + m[1, 1] - m[2, 2])) / 2, m[0, 2] - m[2, 0])
    z = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] - m[1, 1] + m[2, 2])) / 2, m[1, 0] - m[0, 1])
    return np.array([x, y, z, w])


class Affine:
    """A rigid transform from a translation (metres) and a quaternion (x, y, z, w)."""

    def __init__(self, translation=(0.0, 0.0, 0.0), quaternion=(0.0, 0.0, 0.0, 1.0)) -> None:
        translation = np.asarray(translation, dtype=float)
        quaternion = np.asarray(quaternion, dtype=float)
        if translation.shape != (3,) or quaternion.shape != (4,):
            raise TypeError(f"Affine wants a (3,) translation and (4,) quaternion, got {translation.shape}, {quaternion.shape}")
        self._t = translation
        self._r = _quat_xyzw_to_matrix(quaternion)

    @property
    def translation(self) -> np.ndarray:
        return self._t.copy()

    @property
    def quaternion(self) -> np.ndarray:
        return _matrix_to_quat_xyzw(self._r)

    @property
    def matrix(self) -> np.ndarray:
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = self._r, self._t
        return m

    def __mul__(self, other: Affine) -> Affine:
        out = Affine()
        out._r = self._r @ other._r
        out._t = self._t + self._r @ other._t
        return out


class RobotPose:
    def __init__(self, end_effector_pose: Affine, elbow_state=None) -> None:
        self.end_effector_pose = end_effector_pose
        self.elbow_state = elbow_state


class CartesianState:
    def __init__(self, pose) -> None:
        self.pose = pose if isinstance(pose, RobotPose) else RobotPose(pose)


class JointState:
    def __init__(self, position, velocity=None) -> None:
        self.position = np.asarray(position, dtype=float)
        self.velocity = np.zeros(7) if velocity is None else np.asarray(velocity, dtype=float)


class CartesianMotion:
    def __init__(self, target, reference_type=ReferenceType.Absolute, relative_dynamics_factor=1.0,
                 return_when_finished=True, ee_frame=None) -> None:
        if not isinstance(reference_type, ReferenceType):
            raise TypeError(f"reference_type must be a ReferenceType, got {reference_type!r}")
        self.target = target
        self.reference_type = reference_type
        self.relative_dynamics_factor = relative_dynamics_factor


class JointMotion:
    def __init__(self, target, reference_type=ReferenceType.Absolute, relative_dynamics_factor=1.0,
                 return_when_finished=True) -> None:
        self.target = np.asarray(target, dtype=float)
        if self.target.shape != (7,):
            raise TypeError(f"JointMotion wants 7 joint positions, got {self.target.shape}")
        self.reference_type = reference_type


class Errors:
    """franka::Errors: one bool per error; repr lists the active ones."""

    def __init__(self, *active: str) -> None:
        self._active = active
        for name in active:
            setattr(self, name, True)

    def __repr__(self) -> str:
        return "[" + ", ".join(f'"{name}"' for name in self._active) + "]"


class RobotState:
    def __init__(self, robot: Robot) -> None:
        self.current_errors = robot.errors
        self.robot_mode = robot.mode
        self.O_T_EE = robot.pose


class BoolFuture:
    def __init__(self, value: bool, ready: bool = True) -> None:
        self._value, self._ready = value, ready

    def wait(self, timeout=None) -> bool:
        return self._ready

    def get(self) -> bool:
        return self._value


class Robot:
    HOME_POSE = Affine([0.5, 0.0, 0.3], [1.0, 0.0, 0.0, 0.0])  # hand pointing down: 180 deg about x

    def __init__(self, fci_hostname: str, relative_dynamics_factor=1.0, default_torque_threshold=20.0,
                 default_force_threshold=30.0, controller_mode=None, realtime_config=RealtimeConfig.Enforce) -> None:
        _record("Robot", fci_hostname, relative_dynamics_factor=relative_dynamics_factor, realtime_config=realtime_config)
        if fci_hostname in unreachable_hosts:
            raise NetworkException(f"libfranka: Connection timeout ({fci_hostname})")
        self.fci_hostname = fci_hostname
        self._dynamics = relative_dynamics_factor
        self.pose = Robot.HOME_POSE * Affine()
        self.q = np.zeros(7)
        self.errors = Errors()
        self.mode = RobotMode.Idle
        self.fail_next_move: Exception | None = None
        self.join_finishes = True
        robots.append(self)

    @property
    def relative_dynamics_factor(self):
        return self._dynamics

    @relative_dynamics_factor.setter
    def relative_dynamics_factor(self, value) -> None:
        _record("set relative_dynamics_factor", value)
        self._dynamics = value

    def recover_from_errors(self) -> bool:
        _record("recover_from_errors")
        self.errors, self.mode = Errors(), RobotMode.Idle
        return True

    def set_collision_behavior(self, torque_thresholds, force_thresholds) -> None:
        _record("set_collision_behavior", torque_thresholds, force_thresholds)

    def set_joint_impedance(self, K_theta) -> None:
        _record("set_joint_impedance", K_theta)

    def move(self, motion, asynchronous: bool = False) -> None:
        _record("move", motion, asynchronous=asynchronous)
        if self.fail_next_move is not None:
            err, self.fail_next_move = self.fail_next_move, None
            raise err
        if isinstance(motion, CartesianMotion):
            target = motion.target if isinstance(motion.target, Affine) else motion.target.pose.end_effector_pose
            self.pose = self.pose * target if motion.reference_type is ReferenceType.Relative else target
        elif isinstance(motion, JointMotion):
            self.q = motion.target.copy()
            self.pose = Robot.HOME_POSE * Affine()
        else:
            raise TypeError(f"unexpected motion {motion!r}")

    def join_motion(self, timeout=None) -> bool:
        _record("join_motion", timeout)
        return self.join_finishes

    def stop(self) -> None:
        _record("stop")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors._active)

    @property
    def state(self) -> RobotState:
        return RobotState(self)

    @property
    def current_cartesian_state(self) -> CartesianState:
        return CartesianState(RobotPose(self.pose * Affine()))

    @property
    def current_joint_state(self) -> JointState:
        return JointState(self.q.copy(), np.full(7, 0.01))


class Gripper:
    def __init__(self, fci_hostname: str) -> None:
        _record("Gripper", fci_hostname)
        self.max_width = 0.08
        self.width = 0.08
        grippers.append(self)

    def grasp_async(self, width, speed, force, epsilon_inner=0.005, epsilon_outer=0.005) -> BoolFuture:
        _record("grasp_async", width, speed, force, epsilon_inner=epsilon_inner, epsilon_outer=epsilon_outer)
        self.width = float(width)
        return BoolFuture(True)

    def open_async(self, speed) -> BoolFuture:
        _record("open_async", speed)
        self.width = self.max_width
        return BoolFuture(True)

    def move_async(self, width, speed) -> BoolFuture:
        _record("move_async", width, speed)
        self.width = float(width)
        return BoolFuture(True)

    def stop(self) -> bool:
        _record("gripper.stop")
        return True
