"""MuJoCo simulation of fleetrl's arms: models, scenes, end-effector control and rendering.

MuJoCo picks its OpenGL backend when it is first imported, and these machines have no display,
so the headless EGL backend is selected here, before any submodule imports mujoco. A user who
sets MUJOCO_GL (for example to "osmesa") keeps their choice.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
