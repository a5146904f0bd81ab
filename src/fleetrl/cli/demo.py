"""`fleetrl demo`: watch a simulated robot learn a task, live (or, with --scripted, a tour).

Without options: a simulated Panda learns PegInsertion with asynchronous SAC on the embedded
default config, for about four minutes, then the learned policy is filmed. Results (learning
curve, frames, metrics, checkpoints) land in one run folder, named at the end.
With --scripted: the scripted experts drive both simulated robots through both tasks at 10 Hz,
writing camera frames as PNG (about a minute).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fleetrl.core.arguments import positive_int
from fleetrl.envs.tasks import TASKS
from fleetrl.hardware.registry import simulated_robot_type, simulated_robot_types


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="watch a simulated robot learn a task (or --scripted: a tour of robots and tasks)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=None, help="results folder (default runs/demo-<timestamp>)")
    parser.add_argument("--seconds", type=positive_int, default=None, help="learning: wall-time budget (default 240)")
    parser.add_argument("--scripted", action="store_true", help="scripted experts instead of learning")
    parser.add_argument("--robots", nargs="+", type=simulated_robot_type, default=None,
                        help="scripted: simulated robot types (default: every registered one)")
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=sorted(TASKS), help="scripted: tasks")
    parser.add_argument("--episodes", type=positive_int, default=3, help="scripted: episodes per robot and task")
    parser.add_argument("--unpaced", action="store_true", help="scripted: run as fast as possible instead of 10 Hz")
    parser.add_argument("--frame-every", type=positive_int, default=5, help="scripted: keep a frame every N steps")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scripted:
        from fleetrl.demo.scripted import run_scripted

        args.robots = args.robots or list(simulated_robot_types())
        return run_scripted(args)
    from fleetrl.demo.learning import run_learning

    return run_learning(args)
