"""Rendering a model's cameras headless, fast, to uint8 RGB arrays.

Software rendering (Mesa llvmpipe under EGL) dominates the cost of a simulated step with
cameras, so everything that does not help a policy see is off: shadows, reflections, skybox and
multisampling. One `mujoco.Renderer` (one GL context) serves every camera of one resolution.
Call `close()`: a renderer left to the garbage collector at interpreter exit prints EGL errors.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from fleetrl.core.types import CameraSpec


class CameraRenderer:
    """Renders the configured `cameras` of `model`.

    A camera is looked up in the model by its name, else by its mount ("wrist" or "scene"), so
    a config may name its cameras freely. `ValueError` if neither exists.
    """

    def __init__(self, model: mujoco.MjModel, cameras: Sequence[CameraSpec]) -> None:
        self.cameras = tuple(cameras)
        self._camera_ids: dict[str, int] = {}
        for cam in self.cameras:
            cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, cam.name)
            if cam_id < 0:
                cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, cam.mount)
            if cam_id < 0:
                raise ValueError(f"camera {cam.name!r}: the model has no camera {cam.name!r} or {cam.mount!r}")
            self._camera_ids[cam.name] = cam_id
        model.vis.quality.offsamples = 0
        model.vis.global_.offwidth = max([model.vis.global_.offwidth, *(c.width for c in self.cameras)])
        model.vis.global_.offheight = max([model.vis.global_.offheight, *(c.height for c in self.cameras)])
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        for size in {(cam.height, cam.width) for cam in self.cameras}:
            renderer = mujoco.Renderer(model, height=size[0], width=size[1])
            flags = renderer.scene.flags
            flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
            flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
            flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
            self._renderers[size] = renderer

    def render(self, data: mujoco.MjData) -> dict[str, np.ndarray]:
        """One fresh (H, W, 3) uint8 frame per configured camera, from `data`'s current state."""
        frames = {}
        for cam in self.cameras:
            renderer = self._renderers[(cam.height, cam.width)]
            renderer.update_scene(data, camera=self._camera_ids[cam.name])
            frames[cam.name] = renderer.render()
        return frames

    def close(self) -> None:
        """Release every GL context. Idempotent."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()
