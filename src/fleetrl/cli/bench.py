"""`fleetrl bench ...`: measurements that print JSON (`--json`) or a table.

Benchmarks measure on the machine they run on, in one run; the README quotes their output.
"""

from __future__ import annotations

import argparse
import importlib
import json

from rich.console import Console
from rich.table import Table

# Benchmark modules under fleetrl.bench; each defines add_arguments(parser) and run(args) -> dict
# and table(result) -> rich Table.
BENCHMARKS = {
    "robots": "fleetrl.bench.robots",
    "pipeline": "fleetrl.bench.pipeline",
    "buffer": "fleetrl.bench.buffer",
    "reward": "fleetrl.bench.reward",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures", description=__doc__)
    benches = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, module_name in BENCHMARKS.items():
        module = importlib.import_module(module_name)
        sub = benches.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        module.add_arguments(sub)
        sub.set_defaults(func=lambda args, module=module: _run(module, args))


def _run(module, args: argparse.Namespace) -> int:
    console = Console(stderr=args.json)
    result = module.run(args, console)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        table: Table = module.table(result)
        Console().print(table)
    return 0
