"""The node hardware config: valid files load into typed configs; bad ones name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetrl.core.errors import ConfigError
from fleetrl.hardware.node_config import NodeConfig, load_node_config
from fleetrl.hardware.robots.fake.robot import FakeArmConfig


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.yaml"
    path.write_text(text)
    return path


def test_full_config_loads_into_each_robot_types_own_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
robots:
  - {type: fake, name: a, dof: 6}
  - {type: fake, name: b}
servers:
  - {address: "10.0.0.7:50051", name: lab, timeout_s: 0.5}
  - {address: "localhost:6000", token: secret}
mdns: {browse: true, browse_s: 0.7, interfaces: ["127.0.0.1"]}
""",
    )
    config = load_node_config(path)
    assert [type(r) for r in config.robots] == [FakeArmConfig, FakeArmConfig]
    assert config.robots[0].dof == 6 and config.robots[1].robot_name() == "b"
    assert config.servers[0].name == "lab" and config.servers[0].timeout_s == 0.5
    assert config.servers[0].token_env == "FLEETRL_ROBOT_TOKEN"
    assert config.servers[1].token == "secret" and config.servers[1].timeout_s == 2.0
    assert config.mdns.browse and config.mdns.browse_s == 0.7 and config.mdns.interfaces == ["127.0.0.1"]


def test_empty_file_is_an_empty_node(tmp_path: Path) -> None:
    config = load_node_config(write(tmp_path, ""))
    assert config.robots == [] and config.servers == [] and not config.mdns.browse
    assert config.mdns.browse_s == 1.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("robotz: []", "node.yaml: robotz: unknown key"),
        ("robots:\n  - {type: fake, name: a, colour: red}", "node.yaml: robots[0].colour: unknown key"),
        ("robots:\n  - {type: fake}\n  - {type: warp_drive}", "node.yaml: robots[1].type"),
        ("robots:\n  - {name: a}", "node.yaml: robots[0].type: missing"),
        ("robots:\n  - {type: fake, cameras: [{name: w, mount: belly}]}", "robots[0].cameras[0].mount"),
        ("robots: {type: fake}", "node.yaml: robots: expected a list"),
        ("servers:\n  - {address: nohostport}", "node.yaml: servers[0].address"),
        ("servers:\n  - {address: 'h:1', tokn: x}", "node.yaml: servers[0].tokn: unknown key"),
        ("servers:\n  - {address: 'h:1', timeout_s: 0}", "node.yaml: servers[0].timeout_s"),
        ("mdns: {browse: true, browse_s: -1}", "node.yaml: mdns.browse_s"),
        ("mdns: {brows: true}", "node.yaml: mdns.brows: unknown key"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_node_config(write(tmp_path, text))
    assert expected in str(info.value)


def test_duplicate_robot_names_are_refused_naming_the_duplicate(tmp_path: Path) -> None:
    text = "robots:\n  - {type: fake, name: twin}\n  - {type: fake, name: twin}"
    with pytest.raises(ConfigError, match=r"robots\[1\]\.name: duplicate robot name 'twin'.*robots\[0\]"):
        load_node_config(write(tmp_path, text))


def test_default_names_collide_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate robot name 'fake'"):
        load_node_config(write(tmp_path, "robots:\n  - {type: fake}\n  - {type: fake}"))


def test_a_server_name_may_not_repeat_a_robot_name(tmp_path: Path) -> None:
    text = "robots:\n  - {type: fake, name: arm}\nservers:\n  - {address: 'h:1', name: arm}"
    with pytest.raises(ConfigError, match=r"servers\[0\]\.name: duplicate robot name 'arm'"):
        load_node_config(write(tmp_path, text))


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_node_config(tmp_path / "nope.yaml")


def test_from_dict_without_a_file() -> None:
    config = NodeConfig.from_dict({"robots": [{"type": "fake", "name": "x"}]})
    assert config.robots[0].robot_name() == "x"
    with pytest.raises(ConfigError, match=r"node config: robots\[0\]\.dof"):
        NodeConfig.from_dict({"robots": [{"type": "fake", "dof": 0}]})


def test_example_fleet_config_parses_once_the_sim_robots_exist() -> None:
    import importlib.util

    if importlib.util.find_spec("fleetrl.hardware.robots.sim_panda") is None:
        pytest.skip("sim_panda is not in the package yet")
    example = Path(__file__).resolve().parents[2] / "examples" / "fleet_local.yaml"
    config = load_node_config(example)
    assert [(r.type, r.robot_name()) for r in config.robots] == [("sim_panda", "panda0"), ("sim_arx", "arx0")]
