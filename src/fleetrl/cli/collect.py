"""`fleetrl collect`: record demonstrations of a run config's task, by its scripted expert or a person.

    fleetrl collect examples/pick_cube_pixels.yaml --episodes 20 --out runs/demos/pick_cube_pixels64.npz
    fleetrl collect examples/pick_cube_state.yaml --device spacemouse --episodes 5 --out runs/demos/mine/

--out ending in .npz writes one compressed file (atomically); any other path is a buffer folder,
and the demonstrations become a new shard `demos-<k>` of it. Either way the transitions are in the
buffer's chunk format with source "demonstration", who acted (the expert, or a human) and per-step
success labels; a run config lists the file or folder under `buffer.demos` to mix it into every
batch (RLPD), or HG-DAgger starts from it. Only successful episodes are kept unless
--keep-failures. With a device, the person drives every step; Enter/Y-style "success" and
"failure" keys label and end an episode, "end_episode" ends it and lets the task decide.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from fleetrl.core.arguments import positive_int
from fleetrl.core.errors import ConfigError
from fleetrl.hardware.teleop.registry import TELEOP


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "collect", help="record scripted-expert demonstrations of a run config's task",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="run config (YAML) whose env to record")
    parser.add_argument("--episodes", type=positive_int, default=20, help="episodes to run (default 20)")
    parser.add_argument("--out", type=Path, required=True, help="an .npz file, or a buffer folder (a new shard demos-<k>)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    parser.add_argument("--device", choices=("expert", *TELEOP.names()), default="expert",
                        help="who demonstrates: the task's scripted expert (default) or a person at a teleop device")
    parser.add_argument("--keep-failures", action="store_true", help="keep episodes that did not succeed, labelled so")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fleetrl.envs.demonstrations import record_expert_demos
    from fleetrl.runtime.config import load_run_config

    config = load_run_config(args.config)
    if not config.env.is_fleetrl_task:
        raise ConfigError(f"{args.config}: env.id {config.env.id!r} has no scripted expert or teleop mapping (fleetrl tasks only)")
    kwargs = dict(config.env.kwargs, robot=config.env.robots[0])
    console = Console()
    if args.device == "expert":
        with console.status(f"recording {args.episodes} expert episodes of {config.env.id}"):
            try:
                chunk, meta = record_expert_demos(config.env.id, kwargs, args.episodes, args.seed,
                                                  only_successes=not args.keep_failures, env=_env_with_rewards(config))
            except ValueError as err:
                print(f"fleetrl collect: {err}", file=sys.stderr)
                return 1
        chunks = [chunk]
    else:
        chunks, meta = _record_with_device(config, kwargs, args, console)
        if not chunks:
            print(f"fleetrl collect: no episode kept of {meta['attempted']}", file=sys.stderr)
            return 1
    where = _write(args.out, chunks, meta)
    console.print(f"{meta['episodes']} of {meta['attempted']} episodes kept ({meta['transitions']} transitions) in [bold]{where}[/]")
    return 0


def _env_with_rewards(config):
    """The run's env with its `rewards` (so demonstrations carry the reward the run learns from),
    or None when the run keeps the env's own reward."""
    if not config.rewards:
        return None
    from fleetrl.runtime.env_factory import make_worker_env

    return make_worker_env(config.env, 0, rewards=config.rewards)


def _record_with_device(config, kwargs: dict, args: argparse.Namespace, console: Console) -> tuple[list[dict], dict]:
    import gymnasium as gym

    import fleetrl.envs  # noqa: F401  (registers the environment ids)
    from fleetrl.envs.demonstrations import record_teleop_demos
    from fleetrl.hardware.teleop.base import TeleopUnavailable
    from fleetrl.hardware.teleop.registry import make_teleop

    teleop = make_teleop(args.device)
    try:
        teleop.connect()
    except TeleopUnavailable as err:
        raise ConfigError(f"--device {args.device}: {err}") from None
    env = _env_with_rewards(config) or gym.make(config.env.id, **kwargs)
    try:
        console.print(f"driving {config.env.id} with the {args.device}: {args.episodes} episode(s); "
                      "success / failure keys label and end an episode")
        with console.status("recording") as status:
            chunks, meta = record_teleop_demos(env, teleop, args.episodes, args.seed, not args.keep_failures,
                                               on_step=lambda n: status.update(f"recording: step {n}"))
    finally:
        env.close()
        teleop.disconnect()
    meta.update(env_id=config.env.id, env_kwargs=kwargs, seed=args.seed)
    return chunks, meta


def _write(out: Path, chunks: list[dict], meta: dict) -> Path:
    """An .npz file at `out`, or a new shard demos-<k> of the buffer folder `out`."""
    from fleetrl.buffer.config import DurabilityConfig
    from fleetrl.buffer.demos import save_demos
    from fleetrl.buffer.shard_layout import SHARDS_DIR
    from fleetrl.buffer.shard_writer import ShardWriter
    from fleetrl.core.transitions import concat_chunks

    if out.suffix == ".npz":
        return save_demos(out, concat_chunks(chunks), meta)
    k = 0
    while (out / SHARDS_DIR / f"demos-{k}").exists():
        k += 1
    shard = out / SHARDS_DIR / f"demos-{k}"
    with ShardWriter(shard, DurabilityConfig(mode="episode")) as writer:
        for chunk in chunks:
            writer.add(chunk)
    return shard
