"""`fleetrl train`: train a policy from a run config, or resume a run.

    fleetrl train examples/pick_cube_state.yaml
    fleetrl train examples/pick_cube_state.yaml --run-dir runs/mine runtime.total_env_steps=50000
    fleetrl train --resume runs/pick_cube_state-20261122-010203

The run folder holds the resolved config, checkpoints, metrics.jsonl, TensorBoard events and
learning_curve.png. A bad config fails before anything starts, naming the key (exit code 2);
a worker that fails for good stops the run cleanly with the reason (exit code 1).
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from fleetrl.core.errors import ConfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a policy from a run config (or --resume a run)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "words", nargs="*", metavar="CONFIG [key=value ...]",
        help="run config (YAML), then overrides such as runtime.mode=sync (with --resume: overrides only)",
    )
    parser.add_argument("--run-dir", help="run folder (default runs/<name>-<timestamp>)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in this folder from its newest checkpoint")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fleetrl.runtime.config import load_run_config
    from fleetrl.runtime.run_dir import RunDir

    files = [w for w in args.words if "=" not in w]
    overrides = [w for w in args.words if "=" in w]
    if args.resume:
        if files:
            raise ConfigError(f"give either CONFIG or --resume RUN_DIR, not both (got {files[0]!r})")
        run_dir = RunDir.open(args.resume)
        config = load_run_config(run_dir.config_path, overrides)
    else:
        if len(files) != 1:
            raise ConfigError("expected one CONFIG file (or --resume RUN_DIR); see fleetrl train --help")
        config = load_run_config(files[0], overrides)
        run_dir = None
    return _train(config, run_dir, args)


def _train(config, run_dir, args) -> int:
    from fleetrl.runtime.async_runner import AsyncRun
    from fleetrl.runtime.progress import LiveProgress
    from fleetrl.runtime.run_dir import RunDir
    from fleetrl.runtime.sync_runner import SyncRun
    from fleetrl.runtime.trainer import Trainer

    console = Console()
    resume = run_dir is not None
    if run_dir is None:
        run_dir = RunDir.create(config, path=args.run_dir)
    trainer = Trainer(config, run_dir, resume=resume, console=console)  # builds one env: fails early on a bad env
    console.print(f"[bold]fleetrl train[/] {config.name}: {config.runtime.mode} mode, "
                  f"{len(trainer.worker_names)} env worker(s), run folder [bold]{run_dir.path}[/]")
    runner = AsyncRun(trainer) if config.runtime.mode == "async" else SyncRun(trainer)
    try:
        with LiveProgress(config.runtime.total_env_steps, config.runtime.max_wall_time_s, trainer.worker_names,
                          log_every_s=config.runtime.log_every_s, console=console,
                          metric_names=config.algorithm.needs().metric_names) as progress:
            code = runner.run(progress)
    finally:
        trainer.shutdown()
    final = trainer.last_eval
    if final:
        console.print(f"final evaluation: success rate {final['success_rate']:.0%}, return {final['return_mean']:.2f} "
                      f"after {final['env_steps']} env steps")
    console.print(f"results in [bold]{run_dir.path}[/] (metrics.jsonl, learning_curve.png, checkpoints/, tensorboard/)")
    if code != 0:
        print(f"fleetrl train: stopped: {trainer.failure}", file=sys.stderr)
    elif trainer.interrupted:
        print(f"fleetrl train: interrupted; continue with: fleetrl train --resume {run_dir.path}", file=sys.stderr)
        return 130
    return code
