"""`fleetrl robots`: list this node's robots (like `nvidia-smi` for arms) and their Ray resources.

    fleetrl robots --config fleet.yaml               # table: name, kind, DoF, cameras, source, ...
    fleetrl robots --config fleet.yaml --json        # {"node", "robots": [...], "resources": {...}}
    fleetrl robots --mdns --resources                # also browse mDNS; print `ray start` resources

Without `--config` only robot servers announced over mDNS are listed. Robots that are down are
listed as down and the exit code stays 0; a bad config exits 2 naming the key. With `--json`,
stdout holds the JSON object only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape

from fleetrl.hardware.discovery.inventory import RobotRecord, discover_robots
from fleetrl.hardware.node_config import NodeConfig, load_node_config
from fleetrl.hardware.resources import ray_start_command, robot_resources

_DETAIL_CHARS = 80
_STATUS_STYLE = {"ok": "green", "degraded": "yellow", "disconnected": "dim", "down": "red"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "robots",
        help="list the robots on this node, their health and Ray resources",
        description="List the robots attached to this node (and robot servers it can reach), with health.",
    )
    parser.add_argument("--config", type=Path, help="node hardware config (YAML: robots, servers, mdns)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--mdns", action="store_true", help="also list robot servers announced over mDNS")
    parser.add_argument("--resources", action="store_true", help="also print the Ray resources they offer")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_node_config(args.config) if args.config else NodeConfig()
    if args.mdns or args.config is None:
        config = config.model_copy(update={"mdns": config.mdns.model_copy(update={"browse": True})})
    # Drivers and simulators may print while they start; keep stdout for the listing alone.
    with contextlib.redirect_stdout(sys.stderr):
        records = discover_robots(config)
    resources = robot_resources(records)
    if args.json:
        payload = {"node": socket.gethostname(), "robots": [r.to_dict() for r in records], "resources": resources}
        print(json.dumps(payload, indent=2))
        return 0
    _print_table(records)
    if args.resources:
        _print_resources(records, resources)
    return 0


def _cameras(record: RobotRecord) -> str:
    return ", ".join(f"{c['name']} {c['height']}x{c['width']}" for c in record.cameras) or "-"


def _health(record: RobotRecord) -> str:
    health = record.health
    status = health.get("status", "down")
    text = f"[{_STATUS_STYLE.get(status, 'red')}]{status}[/]"
    if health.get("latency_ms") is not None:
        text += f" {health['latency_ms']:.1f} ms"
    detail = str(health.get("detail") or "")
    if detail:  # the full detail is in --json; a table row stays readable
        text += f" ({escape(detail if len(detail) <= _DETAIL_CHARS else detail[: _DETAIL_CHARS - 1] + '…')})"
    return text


def _print_table(records: list[RobotRecord]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    if not records:
        console.print("no robots found (pass --config FILE, or --mdns to browse the network)")
        return
    table = Table(title=f"robots on {socket.gethostname()}")
    for column in ("name", "kind", "DoF", "cameras", "source", "address", "health"):
        table.add_column(column, justify="right" if column == "DoF" else "left")
    for r in records:
        table.add_row(
            escape(r.name),
            escape(r.kind),
            str(r.dof or "-"),
            escape(_cameras(r)),
            r.source,
            escape(r.address or "-"),
            _health(r),
        )
    console.print(table)


def _print_resources(records: list[RobotRecord], resources: dict[str, float]) -> None:
    # Plain print, unwrapped: these lines are meant to be copied into a shell.
    if not resources:
        print("no healthy robots: no Ray resources to offer")
        return
    print("Ray resources: " + json.dumps({k: int(v) for k, v in sorted(resources.items())}))
    print("start a Ray node with them: " + ray_start_command(records))
