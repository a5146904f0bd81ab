"""The learning demo: a simulated arm learns a task with asynchronous SAC, live, in a few minutes.

It trains on the embedded default config (`demo.yaml` beside this file) with the real runtime
(Ray workers, replay, versioned weights), then films the learned policy and prints how its
evaluated success rate rose. Everything lands in one run folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
from rich.console import Console
from rich.table import Table

from fleetrl.envs.rollout import run_episode
from fleetrl.runtime.async_runner import AsyncRun
from fleetrl.runtime.config import load_run_config
from fleetrl.runtime.evaluate import load_run_policy
from fleetrl.runtime.metrics import read_metrics
from fleetrl.runtime.progress import LiveProgress
from fleetrl.runtime.run_dir import RunDir
from fleetrl.runtime.trainer import Trainer
from fleetrl.viz.frames import contact_sheet, save_png

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")


def run_learning(args: argparse.Namespace) -> int:
    console = Console()
    overrides = [f"runtime.max_wall_time_s={args.seconds}"] if args.seconds else []
    config = load_run_config(DEMO_CONFIG, overrides)
    run_dir = RunDir.create(config, path=args.out)
    console.print(f"[bold]fleetrl demo[/]: a simulated {config.env.robots[0]} learns {config.env.id} with "
                  f"asynchronous SAC for up to {config.runtime.max_wall_time_s / 60:.0f} minutes")
    trainer = Trainer(config, run_dir, console=console)
    try:
        with LiveProgress(config.runtime.total_env_steps, config.runtime.max_wall_time_s, trainer.worker_names,
                          log_every_s=config.runtime.log_every_s, console=console,
                          metric_names=config.algorithm.needs().metric_names) as progress:
            code = AsyncRun(trainer).run(progress)
    finally:
        trainer.shutdown()
    if code != 0:
        console.print(f"[red]training stopped: {trainer.failure}")
        return code
    console.print(_improvement_table(run_dir))
    sheet = _film_policy(run_dir, episodes=2)
    console.print(f"[bold green]done[/]: learning curve [bold]{run_dir.learning_curve}[/], "
                  f"the learned policy on camera [bold]{sheet}[/], everything in [bold]{run_dir.path}[/]")
    return 0


def _improvement_table(run_dir: RunDir) -> Table:
    """Evaluated success rate over time, one row per evaluation."""
    table = Table(title="the policy improving (deterministic evaluation episodes)")
    for column in ("wall time", "env steps", "policy version", "eval success", "eval return"):
        table.add_column(column, justify="right")
    seen = set()
    for record in read_metrics(run_dir.metrics_path):
        key = record.get("eval_env_steps")
        if key is None or key in seen or record.get("eval_success_rate") is None:
            continue
        seen.add(key)
        table.add_row(f"{record['wall_time_s']:.0f} s", str(key), str(record.get("eval_policy_version", "")),
                      f"{record['eval_success_rate']:.0%}", f"{record.get('eval_return_mean', 0.0):.2f}")
    return table


def _film_policy(run_dir: RunDir, episodes: int) -> Path:
    """Run the learned policy with the scene camera on and save a contact sheet of its frames."""
    policy, config, _ = load_run_policy(run_dir)
    env = gym.make(config.env.id, robot=config.env.robots[0], render_mode="rgb_array", **config.env.kwargs)
    frames = []

    def keep(step, obs):
        if step % 3 == 0 and len(frames) < 24:
            frames.append(obs.images["scene"])

    try:
        for episode in range(episodes):
            run_episode(env, lambda obs: policy.act(env.unwrapped.policy_observation(obs), deterministic=True),
                        seed=episode, on_step=keep)
    finally:
        env.close()
    return save_png(contact_sheet(frames, columns=8), run_dir.path / "policy_rollout.png")
