"""The `fleetrl` command: one module per subcommand, each exposing `register(subparsers)`.

Exit codes: 0 success, 1 a failure while running, 2 a usage or config error (argparse's own
usage errors exit 2 as well). Errors print one message naming the problem, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fleetrl import __version__
from fleetrl.core.errors import ConfigError, FleetrlError

# Subcommand modules under fleetrl.cli; each defines register(subparsers) which sets `func`.
SUBCOMMANDS = ("robots", "robot_server", "train", "eval", "collect", "demo", "bench", "buffer", "reward")

EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetrl",
        description="Online robot policy learning on a fleet of real and simulated robots.",
    )
    parser.add_argument("--version", action="version", version=f"fleetrl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"fleetrl.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # Subcommands that take trailing words (train's key=value overrides) collect them
        # wherever they stand among the options; everyone else refuses them (exit code 2).
        if not hasattr(args, "words") or any(word.startswith("-") for word in extras):
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        args.words = list(args.words) + extras
    try:
        return int(args.func(args) or 0)
    except ConfigError as err:
        print(f"fleetrl {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except FleetrlError as err:
        print(f"fleetrl {args.command}: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"fleetrl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
