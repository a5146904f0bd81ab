"""Where a reward runs: the per-step cost of a success classifier in the env worker and in the
run's reward worker (a Ray actor each env worker calls once per step).

One env (PickCube, sim Panda, state observations, the scene camera rendered at 64x64 for the
reward) steps with random actions: without a reward model, with the classifier in the env's
process, and with the classifier in a reward worker. The classifier has the size of the one
`fleetrl reward train` makes; its weights are untrained, which costs the same.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from fleetrl.bench.machine import machine_info
from fleetrl.core.arguments import positive_int

ENV = {"id": "fleetrl/PickCube-v0", "robots": ["sim_panda"], "kwargs": {"obs_mode": "state", "reward": "none", "image_size": 64}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=positive_int, default=1000, help="env steps per measurement")


def _steps_per_s(env, steps: int) -> float:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(20):  # warm up: the first render and model call build their state
        env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def run(args: argparse.Namespace, console: Console) -> dict:
    import ray
    import torch

    from fleetrl.comm.ray_reward import RemoteReward
    from fleetrl.rewards.classifier import ClassifierConfig, SuccessClassifier
    from fleetrl.runtime.assembly import spawn_reward_worker
    from fleetrl.runtime.config import RunConfig
    from fleetrl.runtime.env_factory import make_worker_env

    torch.set_num_threads(1)  # as in an env worker
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        model = SuccessClassifier(ClassifierConfig(cameras=("scene",), height=64, width=64))
        path = str(model.save(Path(folder) / "success.pt"))
        setups = {
            "no reward model (frames rendered)": ([{"type": "task"}], False),
            "classifier in the env worker": ([{"type": "classifier", "path": path}], False),
            "classifier in the reward worker": ([{"type": "classifier", "path": path, "worker": "own"}], True),
        }
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        try:
            for name, (rewards, remote) in setups.items():
                config = RunConfig.model_validate({"name": "bench_reward", "env": ENV, "rewards": rewards})
                own = None
                if remote:
                    own = RemoteReward(spawn_reward_worker(config), "bench#0", config.runtime.call_timeout_s)
                kwargs = dict(config.env.kwargs)
                if not remote and rewards[0]["type"] == "task":  # render as the classifier runs do
                    kwargs["render_mode"] = "rgb_array"
                env = make_worker_env(config.env.model_copy(update={"kwargs": kwargs}), 0, rewards=config.rewards, own_reward=own)
                console.log(f"{name}: {args.steps} steps")
                rate = _steps_per_s(env, args.steps)
                env.close()
                rows.append({"setup": name, "steps": args.steps, "steps_per_s": rate, "ms_per_step": 1000.0 / rate})
        finally:
            ray.shutdown()
    local, remote_row = rows[1]["ms_per_step"], rows[2]["ms_per_step"]
    return {"benchmark": "reward", "machine": machine_info(), "rows": rows,
            "reward_worker_extra_ms_per_step": remote_row - local}


def table(result: dict) -> Table:
    out = Table(title=f"a classifier reward on {result['machine']['cpu']} ({result['machine']['cores']} cores)")
    for column in ("setup", "steps", "steps/s", "ms/step"):
        out.add_column(column, justify="left" if column == "setup" else "right")
    for row in result["rows"]:
        out.add_row(row["setup"], str(row["steps"]), f"{row['steps_per_s']:.0f}", f"{row['ms_per_step']:.2f}")
    out.caption = f"the reward worker adds {result['reward_worker_extra_ms_per_step']:.2f} ms per step"
    return out
