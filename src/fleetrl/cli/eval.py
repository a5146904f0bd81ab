"""`fleetrl eval RUN_DIR`: run a trained policy's episodes and report its success rate.

Loads the newest loadable checkpoint of the run folder, builds the policy from the run's
config.yaml and runs it on env worker 0's environment (deterministic actions unless
--stochastic). Episode i is seeded with SEED + i. Exit code 2 when RUN_DIR is not a run folder
or has no checkpoint.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fleetrl.core.arguments import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate the policy of a run folder (success rate, return)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder, e.g. runs/pick_cube-20250101-120000")
    parser.add_argument("--episodes", type=positive_int, default=None,
                        help="episodes to run (default: the run's runtime.eval_episodes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of taking the mean")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fleetrl.runtime.evaluate import evaluate_policy, load_run_policy  # torch: only when evaluating

    policy, config, counters = load_run_policy(args.run_dir)
    episodes = args.episodes or config.runtime.eval_episodes
    deterministic = not args.stochastic
    console = Console(stderr=True)  # episode lines go to stderr so --json leaves stdout clean

    def on_episode(index: int, result: dict) -> None:
        if not args.json:
            console.print(f"episode {index + 1}/{episodes}: {'success' if result['success'] else 'failure'}, "
                          f"return {result['return']:.2f}, {result['length']} steps", highlight=False)

    report = evaluate_policy(policy, config.env, episodes, args.seed, deterministic=deterministic, on_episode=on_episode)
    report.update(
        run_dir=str(args.run_dir),
        env_id=config.env.id,
        policy_version=int(counters.get("policy_version", 0)),
        env_steps=int(counters.get("env_steps", 0)),
        seed=args.seed,
        deterministic=deterministic,
    )
    if args.json:
        print(json.dumps(report))
    else:
        _print_table(report)
    return 0


def _print_table(report: dict) -> None:
    table = Table(title=f"fleetrl eval: {report['run_dir']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("environment", report["env_id"])
    table.add_row("policy version", str(report["policy_version"]))
    table.add_row("trained env steps", str(report["env_steps"]))
    table.add_row("actions", "deterministic" if report["deterministic"] else "stochastic")
    table.add_row("episodes", f"{report['episodes']} (seeds {report['seed']}..{report['seed'] + report['episodes'] - 1})")
    table.add_row("success rate", f"{report['success_rate']:.2f}")
    table.add_row("mean return", f"{report['mean_return']:.2f}")
    table.add_row("mean length", f"{report['mean_length']:.1f}")
    Console().print(table)
