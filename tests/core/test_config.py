import pytest

from fleetrl.core.config import load_yaml
from fleetrl.core.errors import ConfigError
from fleetrl.hardware.registry import make_robot, parse_robot_config


def test_unknown_key_is_named_with_its_path():
    with pytest.raises(ConfigError, match=r"fleet.yaml: robots\[0\].nmae: unknown key"):
        parse_robot_config({"type": "fake", "nmae": "x"}, where="fleet.yaml: robots[0]")


def test_nested_bad_value_is_named():
    with pytest.raises(ConfigError, match=r"robot.safety.max_translation_per_step"):
        parse_robot_config({"type": "fake", "safety": {"max_translation_per_step": -1}})


def test_unknown_robot_type_lists_known_types():
    with pytest.raises(ConfigError, match=r"robot.type: unknown robot type 'ur5'.*sim_panda"):
        make_robot({"type": "ur5"})


def test_missing_type_is_named():
    with pytest.raises(ConfigError, match=r"robot.type: missing"):
        make_robot({"name": "x"})


def test_load_yaml_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        load_yaml(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("robots: [\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_yaml(broken)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_yaml(listy)
