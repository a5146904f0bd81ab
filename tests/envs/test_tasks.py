"""The tasks on both simulated robots: registered ids, observations, and solvability."""

import gymnasium as gym
import numpy as np
import pytest

import fleetrl.envs  # noqa: F401  (registers the environment ids)
from fleetrl.core.errors import ConfigError
from fleetrl.envs import make_task_env
from fleetrl.envs.experts import expert_for
from fleetrl.envs.rollout import run_episode
from fleetrl.hardware.registry import make_robot
from fleetrl.hardware.server.robot_server import RobotServer

ROBOTS = ["sim_panda", "sim_arx"]
ENV_IDS = ["fleetrl/PickCube-v0", "fleetrl/PegInsertion-v0"]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("robot", ROBOTS)
def test_scripted_expert_solves_each_task_on_each_robot_with_pixels(env_id, robot):
    env = gym.make(env_id, robot=robot, obs_mode="pixels")
    expert = expert_for(env)
    try:
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert obs["wrist"].shape == obs["scene"].shape == (128, 128, 3)
        assert obs["wrist"].std() > 5 and obs["scene"].std() > 5  # real pictures, not blank frames
        results = [run_episode(env, expert.act, seed=seed) for seed in range(4)]
    finally:
        env.close()
    assert all(r.success for r in results), [(r.success, r.steps) for r in results]
    assert all(r.episode_return == 1.0 for r in results)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_random_actions_do_not_solve_the_task_and_episodes_truncate(env_id):
    env = gym.make(env_id, robot="sim_panda", obs_mode="state")
    obs, _ = env.reset(seed=5)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    steps, successes, truncated, terminated = 0, 0, False, False
    while not (truncated or terminated):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        successes += info["success"]
    env.close()
    assert successes == 0 and truncated and steps == env.spec.max_episode_steps


def test_initial_states_are_seeded_and_randomised():
    env = make_task_env("pick_cube", robot="sim_arx")
    cubes = []
    for seed in (0, 0, 1):
        env.reset(seed=seed)
        cubes.append(env.last_observation.task_state["cube_pos"].copy())
    env.close()
    np.testing.assert_array_equal(cubes[0], cubes[1])
    assert np.linalg.norm(cubes[0][:2] - cubes[2][:2]) > 1e-3


def test_served_robot_runs_the_task_like_a_local_one():
    token = "task-test-token"
    served = make_robot({"type": "sim_panda", "scene": "pick_cube", "cameras": []})
    with RobotServer(served, token) as server:
        env = gym.make("fleetrl/PickCube-v0", robot=server.address, token=token)
        expert = expert_for(env)
        result = run_episode(env, expert.act, seed=3)
        env.close()
    local = make_task_env("pick_cube", robot="sim_panda")
    local_result = run_episode(local, expert_for(local).act, seed=3)
    local.close()
    assert result.success and (result.steps, result.success) == (local_result.steps, local_result.success)


def test_a_served_robot_with_the_wrong_scene_is_refused():
    token = "task-test-token"
    served = make_robot({"type": "sim_panda", "scene": "empty", "cameras": []})
    with RobotServer(served, token) as server:
        with pytest.raises(ConfigError, match="--scene pick_cube"):
            make_task_env("pick_cube", robot=server.address, token=token)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"task": "stack_cubes"}, "unknown task 'stack_cubes'"),
        ({"task": "pick_cube", "robot": "ur5"}, r"neither a simulated robot type \(sim_arx, sim_panda\)"),
        ({"task": "pick_cube", "robot": "127.0.0.1:1"}, "FLEETRL_ROBOT_TOKEN"),
    ],
)
def test_bad_task_arguments_name_the_problem(kwargs, message, monkeypatch):
    monkeypatch.delenv("FLEETRL_ROBOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=message):
        make_task_env(**kwargs)
