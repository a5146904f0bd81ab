"""End-effector control of a simulated arm: the shared action space to joint position targets.

Each action moves a task-space target (the tool centre's position and orientation) by the
action's increments; damped-least-squares differential IK, iterated on a scratch copy of the
kinematics, turns the target into joint targets for the arm's position servos. A redundant arm
(the 7-DoF Panda) is pulled toward its home posture in the null space of the task. Joint targets
are kept inside the joint limits.
"""

from __future__ import annotations

import mujoco
import numpy as np

DOWN_QUAT = np.array([0.0, 1.0, 0.0, 0.0])
"""Tool-centre orientation (wxyz) of a hand pointing straight down with its x along base x."""


def quat_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The (3,) axis-angle rotation (radians, base frame) taking `current` to `target` (wxyz)."""
    inverse = np.zeros(4)
    mujoco.mju_negQuat(inverse, current)
    delta = np.zeros(4)
    mujoco.mju_mulQuat(delta, target, inverse)
    if delta[0] < 0:  # the short way round
        delta = -delta
    error = np.zeros(3)
    mujoco.mju_quat2Vel(error, delta, 1.0)
    return error


def rotate_quat(quat: np.ndarray, axis_angle: np.ndarray) -> np.ndarray:
    """`quat` (wxyz) rotated by the base-frame axis-angle vector `axis_angle` (radians)."""
    increment = np.zeros(4)
    angle = float(np.linalg.norm(axis_angle))
    if angle < 1e-12:
        return quat.copy()
    mujoco.mju_axisAngle2Quat(increment, axis_angle / angle, angle)
    result = np.zeros(4)
    mujoco.mju_mulQuat(result, increment, quat)
    return result / np.linalg.norm(result)


class EndEffectorController:
    """Damped-least-squares IK from tool-centre targets to arm joint targets.

    `joint_names` are the arm's joints in order, `site` the tool-centre site, `q_home` (dof,) the
    posture the null space pulls toward (radians). `lower`/`upper` are the joint limits, radians.
    The controller owns a scratch `MjData`, so it never disturbs the simulation it serves.
    """

    DAMPING = 0.02
    """Damping of the least-squares solve (metres / radians): trades accuracy near singularities."""

    MAX_JOINT_STEP = 0.25
    """Largest joint change of one IK iteration, radians, so that unreachable targets stay tame."""

    NULLSPACE_GAIN = 0.2
    """Fraction of the home-posture error the null space corrects per IK iteration."""

    LIMIT_MARGIN = 0.01
    """Joint targets stay this far (radians) inside the joint limits."""

    MAX_LAG = (0.01, 0.1)
    """How far (metres, radians) the target may lead the measured pose before it is pulled back,
    so that a hand blocked by contact does not wind its target up."""

    def __init__(self, model: mujoco.MjModel, joint_names: tuple[str, ...], site: str, q_home: np.ndarray) -> None:
        self.model = model
        self.site_id = model.site(site).id
        joint_ids = [model.joint(name).id for name in joint_names]
        self.qpos_adr = np.array([model.jnt_qposadr[j] for j in joint_ids])
        self.dof_adr = np.array([model.jnt_dofadr[j] for j in joint_ids])
        ranges = model.jnt_range[joint_ids]
        self.lower = ranges[:, 0] + self.LIMIT_MARGIN
        self.upper = ranges[:, 1] - self.LIMIT_MARGIN
        self.q_home = np.asarray(q_home, dtype=np.float64).copy()
        self.dof = len(joint_ids)
        self._scratch = mujoco.MjData(model)
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))
        self.target_pos = np.zeros(3)
        self.target_quat = DOWN_QUAT.copy()
        self.q_target = self.q_home.copy()

    # -- kinematics on the scratch data --------------------------------------------------------

    def site_pose(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tool-centre position (3,) and orientation (4,) wxyz for arm joints `q`."""
        self._forward(q)
        return self._site_pos(), self._site_quat()

    def _forward(self, q: np.ndarray) -> None:
        self._scratch.qpos[self.qpos_adr] = q
        mujoco.mj_kinematics(self.model, self._scratch)
        mujoco.mj_comPos(self.model, self._scratch)

    def _site_pos(self) -> np.ndarray:
        return self._scratch.site_xpos[self.site_id].copy()

    def _site_quat(self) -> np.ndarray:
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, self._scratch.site_xmat[self.site_id])
        return quat

    # -- IK --------------------------------------------------------------------------------

    def solve(self, pos: np.ndarray, quat: np.ndarray, q_init: np.ndarray, iterations: int = 3) -> np.ndarray:
        """Joint targets (dof,) that put the tool centre at `pos` with orientation `quat`.

        Runs `iterations` damped-least-squares steps from `q_init`, each clipped to the limits.
        The last step has no null-space term: the damped null-space projection leaks a little
        into the task, and the last step removes that residual.
        """
        q = np.clip(np.asarray(q_init, dtype=np.float64), self.lower, self.upper)
        damping = self.DAMPING**2 * np.eye(6)
        for iteration in range(iterations):
            self._forward(q)
            error = np.concatenate([pos - self._site_pos(), quat_error(quat, self._site_quat())])
            mujoco.mj_jacSite(self.model, self._scratch, self._jacp, self._jacr, self.site_id)
            jac = np.vstack([self._jacp[:, self.dof_adr], self._jacr[:, self.dof_adr]])
            jac_pinv = jac.T @ np.linalg.inv(jac @ jac.T + damping)
            dq = jac_pinv @ error
            if self.dof > 6 and iteration < iterations - 1:
                nullspace = np.eye(self.dof) - jac_pinv @ jac
                dq += nullspace @ (self.NULLSPACE_GAIN * (self.q_home - q))
            largest = float(np.max(np.abs(dq)))
            if largest > self.MAX_JOINT_STEP:
                dq *= self.MAX_JOINT_STEP / largest
            q = np.clip(q + dq, self.lower, self.upper)
        return q

    def reset(self, q: np.ndarray) -> None:
        """Start tracking from joints `q`: the target becomes the pose they give."""
        self.q_target = np.clip(np.asarray(q, dtype=np.float64), self.lower, self.upper)
        self.target_pos, self.target_quat = self.site_pose(self.q_target)

    def step(self, q_measured: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Move the target by a safe (7,) action's increments; return joint targets (dof,).

        The target is first pulled to within `MAX_LAG` of the measured pose, so increments
        accumulate exactly while the hand tracks and do not wind up while it is blocked.
        """
        pos, quat = self.site_pose(q_measured)
        lead = self.target_pos - pos
        lead_norm = float(np.linalg.norm(lead))
        if lead_norm > self.MAX_LAG[0]:
            lead *= self.MAX_LAG[0] / lead_norm
        self.target_pos = pos + lead + action[:3]
        turn = quat_error(self.target_quat, quat)
        turn_norm = float(np.linalg.norm(turn))
        if turn_norm > self.MAX_LAG[1]:
            self.target_quat = rotate_quat(quat, turn * (self.MAX_LAG[1] / turn_norm))
        self.target_quat = rotate_quat(self.target_quat, action[3:6])
        self.q_target = self.solve(self.target_pos, self.target_quat, self.q_target)
        return self.q_target
