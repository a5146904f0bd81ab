"""`fleetrl collect`: record demonstrations of a run config's task with its scripted expert.

    fleetrl collect examples/pick_cube_pixels.yaml --episodes 20 --out runs/demos/pick_cube_pixels64.npz

The file (compressed .npz, written atomically) holds the expert's transitions in the buffer's
chunk format with source "demonstration", plus how they were made; a run config lists it under
`buffer.demos` to mix it into every batch (RLPD). Only successful episodes are kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from fleetrl.cli.arguments import positive_int
from fleetrl.core.errors import ConfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "collect", help="record scripted-expert demonstrations of a run config's task",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="run config (YAML) whose env to record")
    parser.add_argument("--episodes", type=positive_int, default=20, help="episodes to run (default 20)")
    parser.add_argument("--out", type=Path, required=True, help="demonstration file to write (.npz)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fleetrl.buffer.demos import record_expert_demos, save_demos
    from fleetrl.runtime.config import load_run_config

    config = load_run_config(args.config)
    if not config.env.is_fleetrl_task:
        raise ConfigError(f"{args.config}: env.id {config.env.id!r} has no scripted expert (fleetrl tasks only)")
    kwargs = dict(config.env.kwargs, robot=config.env.robots[0])
    console = Console()
    with console.status(f"recording {args.episodes} expert episodes of {config.env.id}"):
        chunk, meta = record_expert_demos(config.env.id, kwargs, args.episodes, args.seed)
    path = save_demos(args.out, chunk, meta)
    console.print(f"{meta['episodes']} of {meta['attempted']} episodes kept ({meta['transitions']} transitions) in [bold]{path}[/]")
    return 0
