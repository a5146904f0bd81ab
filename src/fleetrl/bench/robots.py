"""Simulated robot speed: unpaced steps per second (state and pixels) and paced rate and jitter.

Unpaced: one robot stepping as fast as it can, with state observations (no cameras) and with
two 128x128 cameras. Paced: the robot on its 10 Hz wall clock with two cameras, the achieved rate
and the p99 deviation of the step period from 100 ms.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from fleetrl.bench.machine import machine_info
from fleetrl.bench.robot_speed import measure_robot_speed
from fleetrl.core.arguments import positive_int
from fleetrl.hardware.registry import make_robot, simulated_robot_type, simulated_robot_types


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=positive_int, default=2000, help="unpaced steps per measurement")
    parser.add_argument("--paced-steps", type=positive_int, default=100, help="steps of the paced 10 Hz run")
    parser.add_argument("--robots", nargs="+", type=simulated_robot_type, default=None,
                        help="simulated robot types (default: every registered one)")


def measure_paced(robot_type: str, steps: int) -> dict:
    """Run `steps` paced steps with two cameras and small random actions; report rate and jitter."""
    robot = make_robot({"type": robot_type, "paced": True, "scene": "pick_cube"})
    rng = np.random.default_rng(0)
    with robot:
        robot.reset(seed=0)
        for _ in range(steps + 1):
            action = np.concatenate([rng.uniform(-0.01, 0.01, 3), np.zeros(3), [0.0]])
            robot.send_action(action)
            robot.get_observation()
        report = robot.rate_report()
    return {"robot": robot_type, **report.to_dict()}


def run(args: argparse.Namespace, console: Console) -> dict:
    unpaced, paced = [], []
    for robot_type in args.robots or simulated_robot_types():
        for obs in ("state", "pixels"):
            console.log(f"{robot_type}: {args.steps} unpaced steps, {obs} observations")
            unpaced.append(measure_robot_speed(robot_type, obs, args.steps))
        console.log(f"{robot_type}: {args.paced_steps} paced steps at 10 Hz with two cameras")
        paced.append(measure_paced(robot_type, args.paced_steps))
    return {"benchmark": "robots", "machine": machine_info(), "unpaced": unpaced, "paced": paced}


def table(result: dict) -> Table:
    out = Table(title=f"simulated robots on {result['machine']['cpu']} ({result['machine']['cores']} cores)")
    for column in ("robot", "mode", "steps", "steps/s", "rate Hz", "jitter p99 ms"):
        out.add_column(column, justify="right" if column not in ("robot", "mode") else "left")
    for row in result["unpaced"]:
        out.add_row(row["robot"], f"unpaced, {row['obs']}", str(row["steps"]), f"{row['steps_per_s']:.0f}", "", "")
    for row in result["paced"]:
        out.add_row(row["robot"], "paced 10 Hz, pixels", str(row["steps"]), "",
                    f"{row['achieved_hz']:.2f}", f"{row['jitter_ms_p99']:.2f}")
    return out
