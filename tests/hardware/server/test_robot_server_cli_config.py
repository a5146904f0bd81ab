"""How `fleetrl robot-server` builds its robot config from --config and the flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from fleetrl.cli.robot_server import build_robot_config, register
from fleetrl.core.errors import ConfigError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["robot-server", *argv])


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "arm.yaml"
    path.write_text("type: fake\nname: from-file\ndof: 6\npaced: false\n")
    config = build_robot_config(parse("--robot", "fake", "--config", str(path), "--name", "flag", "--paced"))
    assert (config.name, config.dof, config.paced) == ("flag", 6, True)


def test_config_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "arm.yaml"
    path.write_text("dof: 99\ncolour: red\n")
    with pytest.raises(ConfigError) as caught:
        build_robot_config(parse("--robot", "fake", "--config", str(path)))
    message = str(caught.value)
    assert "arm.yaml" in message and "dof" in message and "colour: unknown key" in message


def test_type_in_file_must_match_robot_flag(tmp_path: Path) -> None:
    path = tmp_path / "arm.yaml"
    path.write_text("type: sim_panda\n")
    with pytest.raises(ConfigError, match="does not match --robot"):
        build_robot_config(parse("--robot", "fake", "--config", str(path)))


@pytest.mark.parametrize(("argv", "problem"), [(["--scene", "cube"], "--scene"), (["--robot", "nope"], "--robot")])
def test_flags_the_robot_type_lacks(argv: list[str], problem: str) -> None:
    args = parse("--robot", "fake", *argv) if argv[0] != "--robot" else parse(*argv)
    with pytest.raises(ConfigError, match=problem):
        build_robot_config(args)
