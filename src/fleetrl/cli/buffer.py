"""`fleetrl buffer ...`: inspect, check, merge, export and import persistent replay buffers.

    fleetrl buffer info runs/x/buffer                     # transitions, episodes, sources per shard
    fleetrl buffer verify runs/x/buffer [--quarantine]    # read every record back; exit 1 if damaged
    fleetrl buffer merge merged/ runs/a/buffer runs/b/buffer
    fleetrl buffer export runs/x/buffer --out all.npz     # or --format lerobot --out dataset/
    fleetrl buffer import dataset/ --out buffer/ --format lerobot

PATH is a buffer root (holding shards/<name>/) or one shard folder. info, verify, merge and
export only read their sources and may run while a writer writes; verify --quarantine needs
the writer stopped. A path that is not a buffer exits 2 naming it; damage found by verify (even
when --quarantine moved it aside: run verify again to see the buffer clean), and failures while
running, exit 1; each damaged segment is named on stderr. With --json, stdout holds one JSON
object and nothing else.
"""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleetrl.buffer.segment import CorruptRecord
from fleetrl.buffer.shard_layout import ShardBusy, find_shards
from fleetrl.core.errors import ConfigError, FleetrlError

EXPORT_FORMATS = ("npz", "lerobot")
IMPORT_FORMATS = ("lerobot",)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "buffer", help="inspect, verify, merge, export or import a persistent replay buffer",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        sub.set_defaults(func=_user_errors(func))
        return sub

    info = action("info", "transitions, records, episodes and sources of a buffer, per shard", run_info)
    info.add_argument("path", type=Path, metavar="PATH", help="buffer root or shard folder")
    verify = action("verify", "read back every acknowledged record and check its checksums", run_verify)
    verify.add_argument("path", type=Path, metavar="PATH", help="buffer root or shard folder")
    verify.add_argument("--quarantine", action="store_true",
                        help="move damaged segments into quarantine/ (the shard's writer must be stopped)")
    merge = action("merge", "copy buffers into a new shard (merged-<k>) of buffer OUT", run_merge)
    merge.add_argument("out", type=Path, metavar="OUT", help="buffer root to add the merged shard to")
    merge.add_argument("sources", type=Path, nargs="+", metavar="SRC", help="buffers to copy (left untouched)")
    export = action("export", "write a buffer's transitions to an .npz file or a LeRobot dataset", run_export)
    export.add_argument("path", type=Path, metavar="PATH", help="buffer root or shard folder")
    export.add_argument("--out", type=Path, required=True, help="the .npz file, or the LeRobot dataset folder")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="npz", help="output format (default npz)")
    export.add_argument("--fps", type=_positive_float, default=10.0, help="lerobot: frames per second (default 10)")
    imp = action("import", "write a LeRobot dataset's episodes into a new shard of a buffer", run_import)
    imp.add_argument("dataset", type=Path, metavar="DATASET", help="LeRobot dataset folder")
    imp.add_argument("--out", type=Path, required=True, help="buffer root or shard folder to write to")
    imp.add_argument("--format", choices=IMPORT_FORMATS, default="lerobot", help="input format (default lerobot)")


def _user_errors(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the storage layer's errors into fleetrl's: a missing path is a usage error (exit 2),
    damage, a busy shard or a refused merge a failure (exit 1), each one line, no traceback."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except FleetrlError:
            raise
        except FileNotFoundError as err:
            raise ConfigError(str(err)) from None
        except sqlite3.Error as err:  # e.g. a shard whose first writer died while creating its index
            where = getattr(args, "path", None) or getattr(args, "out", None) or "buffer"
            raise FleetrlError(f"{where}: a shard index cannot be read ({err})") from None
        except (ValueError, ShardBusy, CorruptRecord, OSError) as err:
            raise FleetrlError(str(err)) from None

    return run


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2))


def _size(nbytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if nbytes < 1000 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    raise AssertionError("unreachable")


def run_info(args: argparse.Namespace) -> int:
    from fleetrl.buffer.tools import buffer_info

    info = buffer_info(args.path)
    if args.json:
        _print_json(info)
        return 0
    table = Table(title=f"buffer {escape(info['path'])}")
    columns = ("shard", "transitions", "records", "episodes", "online", "demo", "intervention", "segments", "size")
    for column in columns:
        table.add_column(column, justify="left" if column == "shard" else "right")
    for s in info["shards"]:
        src = s["sources"]
        table.add_row(escape(s["name"]), str(s["transitions"]), str(s["records"]), str(s["episodes"]),
                      str(src["online"]), str(src["demo"]), str(src["intervention"]), str(s["segments"]),
                      _size(s["bytes_on_disk"]))
    if len(info["shards"]) > 1:
        table.add_row("total", str(info["transitions"]), str(info["records"]), *[""] * 5,
                      _size(info["bytes_on_disk"]), style="bold")
    console = _console()
    console.print(table)
    for s in info["shards"]:
        for segment, reason in s["quarantined"].items():
            console.print(f"quarantined: {escape(s['name'])}/{segment}: {escape(reason)}", highlight=False)
    for layout in {json.dumps(s["layout"]) for s in info["shards"] if s["layout"]}:
        keys = ", ".join(f"{k} {d} {tuple(shape)}" for k, (d, shape) in json.loads(layout).items())
        console.print(f"layout: {escape(keys)}", highlight=False)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from fleetrl.buffer.tools import verify_buffer

    result = verify_buffer(args.path, quarantine=args.quarantine)
    if args.json:
        _print_json(result)
    else:
        table = Table(title=f"verify {escape(result['path'])}")
        for column in ("shard", "records checked", "transitions ok", "status"):
            table.add_column(column, justify="left" if column in ("shard", "status") else "right")
        for s in result["shards"]:
            status = "[green]ok[/]" if s["ok"] else f"[red]{len(s['corrupt'])} corrupt segment(s)[/]"
            table.add_row(escape(s["name"]), str(s["records_checked"]), str(s["transitions_ok"]), status)
        _console().print(table)
    # Damage goes to stderr in both modes, so a script piping --json still sees it named.
    for s in result["shards"]:
        for segment, reason in s["corrupt"].items():
            moved = " (moved to quarantine/)" if segment in s["quarantined_now"] else ""
            print(f"corrupt: {s['name']}/{segment}: {reason}{moved}", file=sys.stderr)
    return 0 if result["ok"] else 1


def run_merge(args: argparse.Namespace) -> int:
    from fleetrl.buffer.tools import merge_buffers

    for source in args.sources:
        find_shards(source)  # a source that is not a buffer is a usage error, before anything is made
    result = merge_buffers(args.out, args.sources)
    if args.json:
        _print_json(result)
        return 0
    table = Table(title=f"merged into {escape(result['out'])}/shards/{escape(result['shard'])}")
    for column in ("source", "records", "transitions", "skipped (damaged)"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for s in result["sources"]:
        table.add_row(escape(s["path"]), str(s["records"]), str(s["transitions"]), str(s["skipped_transitions"]))
    table.add_row("total", str(result["records"]), str(result["transitions"]), "", style="bold")
    _console().print(table)
    return 0


def _print_summary(title: str, result: dict) -> None:
    table = Table(title=escape(title), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in result.items():
        table.add_row(escape(str(key)), escape(json.dumps(value) if isinstance(value, (dict, list)) else str(value)))
    _console().print(table)


def _lerobot():
    """The LeRobot format module, imported only when asked for (it pulls in heavier dependencies)."""
    try:
        from fleetrl.buffer.formats import lerobot
    except ImportError as err:
        raise FleetrlError(f"the lerobot format is not available in this install: {err}") from None
    return lerobot


def run_export(args: argparse.Namespace) -> int:
    find_shards(args.path)  # exit 2 naming PATH before any output is created
    if args.format == "npz":
        from fleetrl.buffer.tools import export_npz

        result = export_npz(args.path, args.out)
    else:
        result = _lerobot().export_lerobot(args.path, args.out, args.fps)
    if args.json:
        _print_json(result)
    else:
        _print_summary(f"exported {args.path} to {args.out} ({args.format})", result)
    return 0


def run_import(args: argparse.Namespace) -> int:
    if not args.dataset.is_dir():
        raise ConfigError(f"{args.dataset}: no such dataset folder")
    result = _lerobot().import_lerobot(args.dataset, args.out)
    if args.json:
        _print_json(result)
    else:
        _print_summary(f"imported {args.dataset} into {args.out} ({args.format})", result)
    return 0
