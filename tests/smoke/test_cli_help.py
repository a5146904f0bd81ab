"""Every command answers --help, and usage errors exit with code 2."""

import subprocess
import sys

import pytest

from fleetrl.cli.main import SUBCOMMANDS, build_parser


def fleetrl(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", *args], capture_output=True, text=True, timeout=timeout
    )


def all_command_paths():
    """Every (sub)command path, found by walking the parser, so new commands are covered too."""
    paths = []

    def walk(parser, prefix):
        paths.append(prefix)
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, sub in action.choices.items():
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return paths


@pytest.mark.smoke
@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "fleetrl")
def test_every_command_has_help(path):
    result = fleetrl(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.smoke
def test_every_registered_subcommand_is_reachable():
    assert {p[0] for p in all_command_paths() if p} == {s.replace("_", "-") for s in SUBCOMMANDS}


@pytest.mark.smoke
@pytest.mark.parametrize(
    "args",
    [["no-such-command"], ["demo", "--episodes", "0"], ["bench", "robots", "--steps", "x"], []],
    ids=["unknown command", "zero episodes", "non-numeric steps", "no command"],
)
def test_usage_errors_exit_2(args):
    result = fleetrl(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr or "error" in result.stderr
