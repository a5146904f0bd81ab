"""Gymnasium tasks on fleetrl robots. Importing this package registers the environment ids:

    import gymnasium as gym, fleetrl.envs
    env = gym.make("fleetrl/PickCube-v0", robot="sim_arx", obs_mode="pixels")

`robot=` takes "sim_panda", "sim_arx", a robot-server address "host:port" (token from `token=`
or FLEETRL_ROBOT_TOKEN), or a robot config mapping; `obs_mode=` is "state" or "pixels".
"""

from gymnasium.envs.registration import register, registry

from fleetrl.envs.factory import make_task_env
from fleetrl.envs.robot_env import RobotEnv
from fleetrl.envs.tasks import TASKS

# One id per task, named after its class: a new task is one line in `fleetrl.envs.tasks.TASKS`.
ENV_IDS = {f"fleetrl/{task.__name__}-v0": name for name, task in TASKS.items()}

for _env_id, _task in ENV_IDS.items():
    if _env_id not in registry:
        register(
            id=_env_id,
            entry_point="fleetrl.envs.factory:make_task_env",
            kwargs={"task": _task},
            max_episode_steps=TASKS[_task].max_episode_steps,
            disable_env_checker=True,
        )

__all__ = ["ENV_IDS", "RobotEnv", "make_task_env"]
