"""The scripted tour: the scripted experts drive paced simulated robots through every task.

The same robots, tasks and safety path a policy uses; frames are written as PNG. It shows the
hardware layer on its own, without learning (`fleetrl demo --scripted`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fleetrl.envs.experts import expert_for
from fleetrl.envs.factory import make_task_env
from fleetrl.envs.rollout import run_episode
from fleetrl.viz.frames import contact_sheet, save_png, side_by_side


def run_scripted(args: argparse.Namespace) -> int:
    out = args.out or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    console = Console()
    console.print(f"[bold]fleetrl demo[/]: {', '.join(args.robots)} x {', '.join(args.tasks)}, "
                  f"{args.episodes} episode(s) each, {'unpaced' if args.unpaced else 'paced at 10 Hz'}")
    summary = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for robot in args.robots:
            for task in args.tasks:
                summary.append(_run_pair(robot, task, args, out, progress, console))
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(f"[bold green]done[/]: frames and summary in [bold]{out}[/] "
                  f"(contact sheets: {', '.join(s['contact_sheet'] for s in summary)})")
    return 0


def _run_pair(robot: str, task: str, args, out: Path, progress: Progress, console: Console) -> dict:
    env = make_task_env(task, robot=robot, obs_mode="pixels", paced=not args.unpaced)
    expert = expert_for(env)
    bar = progress.add_task(f"{robot:9s} {task:13s}", total=args.episodes * env.task.max_episode_steps, status="")
    frames, results = [], []
    try:
        for episode in range(args.episodes):
            def on_step(step, obs, episode=episode):
                if step > 0:
                    progress.advance(bar)
                if step % args.frame_every == 0:
                    label = f"{robot} {task} ep{episode} t{step}"
                    frame = side_by_side(obs.images, label)
                    save_png(frame, out / "frames" / robot / task / f"ep{episode:02d}_t{step:03d}.png")
                    frames.append(frame)

            result = run_episode(env, expert.act, seed=episode, on_step=on_step)
            results.append(result)
            done_steps = (episode + 1) * env.task.max_episode_steps
            progress.update(bar, completed=done_steps, status=f"{sum(r.success for r in results)}/{len(results)} solved")
            console.log(f"{robot} {task} episode {episode}: {'success' if result.success else 'failure'} "
                        f"in {result.steps} steps")
        rate = env.robot.rate_report()
    finally:
        env.close()
    sheet = save_png(contact_sheet(frames[-16:], columns=4), out / f"{robot}_{task}.png")
    return {
        "robot": robot,
        "task": task,
        "episodes": len(results),
        "success_rate": sum(r.success for r in results) / len(results),
        "mean_steps": sum(r.steps for r in results) / len(results),
        "paced_rate_hz": rate.achieved_hz,
        "jitter_ms_p99": rate.jitter_ms_p99,
        "contact_sheet": str(sheet),
    }
