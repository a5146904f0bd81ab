"""A node's healthy robots as Ray custom resources, the way GPUs are offered as "GPU".

Naming scheme (a node with a healthy sim_panda "panda0" and sim_arx "arx0"):

    robot                 1 per robot          -> {"robot": 1}: any one robot
    robot_<kind>          1 per robot of kind  -> {"robot_sim_panda": 1}: any Panda
    robot_name:<name>     1 for that robot     -> {"robot_name:panda0": 1}: exactly this arm

Kinds and names are reduced to letters, digits, "_", "-" and "." (anything else becomes "_"), and
"_group_" becomes "-group-" so no name looks like one of Ray's placement-group resources. The
colon follows Ray's own "node:<ip>" resource. Robots that are down or disconnected are not
offered: an actor must not be placed on an arm that cannot move.

By default only robots this node drives ("local") or was configured to use ("server") count;
robots found over mDNS are seen by every node on the network and would be counted several times.
This module does not import Ray: it computes the dict passed to `ray.init(resources=...)` or the
`--resources` argument of `ray start`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Protocol

ROBOT = "robot"
DEFAULT_SOURCES = ("local", "server")


class _Listed(Protocol):
    """What is read from a record (`fleetrl.hardware.discovery.inventory.RobotRecord`)."""

    name: str
    kind: str
    source: str

    @property
    def ok(self) -> bool: ...


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text).replace("_group_", "-group-")


def kind_resource(kind: str) -> str:
    """The resource offered once per robot of `kind`, e.g. "robot_sim_panda"."""
    return f"{ROBOT}_{_clean(kind)}"


def name_resource(name: str) -> str:
    """The resource offered by the one robot called `name`, e.g. "robot_name:panda0"."""
    return f"{ROBOT}_name:{_clean(name)}"


def robot_resources(records: Iterable[_Listed], sources: Sequence[str] = DEFAULT_SOURCES) -> dict[str, float]:
    """Ray custom resources for the healthy robots among `records` from `sources` (see module doc).

    Returns {} when no robot is healthy. Quantities are whole numbers, as Ray requires.
    """
    resources: dict[str, float] = {}
    for record in records:
        if not record.ok or record.source not in sources:
            continue
        for key in (ROBOT, kind_resource(record.kind), name_resource(record.name)):
            resources[key] = resources.get(key, 0.0) + 1.0
    return resources


def ray_start_args(records: Iterable[_Listed], sources: Sequence[str] = DEFAULT_SOURCES) -> list[str]:
    """The `ray start` arguments offering these robots: ["--resources={...json...}"], or [] if none.

    Pass the list to `subprocess` as is; `shlex.join(args)` gives the shell form
    `--resources='{"robot": 2, ...}'`.
    """
    resources = robot_resources(records, sources)
    if not resources:
        return []
    whole = {key: int(value) for key, value in sorted(resources.items())}
    return [f"--resources={json.dumps(whole)}"]


def ray_start_command(records: Iterable[_Listed], sources: Sequence[str] = DEFAULT_SOURCES) -> str:
    """`ray start` with these robots' resources, quoted for a shell (the address is left to add)."""
    return shlex.join(["ray", "start", *ray_start_args(records, sources)])
