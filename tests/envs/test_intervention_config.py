"""The `intervention` config: its takeover rule (nested, or in the older flat keys) and devices
checked against the teleop registry."""

import pytest

from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError
from fleetrl.envs.intervention_config import InterventionConfig, TakeoverRule
from fleetrl.hardware.teleop.registry import TELEOP


def parse(data: dict) -> InterventionConfig:
    return validate(InterventionConfig, data, "intervention")


def test_old_flat_keys_load_as_the_nested_rule():
    flat = parse({"device": "expert", "rule": "going_wrong", "patience": 8, "threshold": 0.3, "hold_steps": 4})
    nested = parse({"device": "expert", "rule": {"kind": "going_wrong", "patience": 8, "threshold": 0.3}, "hold_steps": 4})
    assert flat == nested
    assert flat.rule == TakeoverRule(kind="going_wrong", patience=8, threshold=0.3) and flat.hold_steps == 4
    assert parse({"device": "expert", "rate": 0.1}).rule == TakeoverRule(rate=0.1)  # flat fields, default kind
    assert parse({"device": "expert", "rule": "never"}).rule.kind == "never"


def test_a_dumped_config_reloads_to_an_equal_one():
    config = parse({"device": "expert", "rule": "fixed_rate", "rate": 0.2})
    assert parse(config.model_dump(mode="json")) == config


def test_flat_rule_keys_beside_a_nested_rule_are_named_not_merged():
    with pytest.raises(ConfigError, match=r"intervention\.rate: unknown key"):
        parse({"device": "expert", "rule": {"kind": "fixed_rate"}, "rate": 0.2})
    with pytest.raises(ConfigError, match=r"intervention\.rule\.kind: Input should be 'divergence'"):
        parse({"device": "expert", "rule": "sometimes"})


def test_an_unknown_device_is_named_with_the_registry_devices():
    with pytest.raises(ConfigError) as err:
        parse({"device": "joystick"})
    known = ", ".join(["none", "expert", *TELEOP.names()])
    assert f"intervention.device: Value error, unknown device 'joystick'; known devices: {known}" in str(err.value)


def test_a_device_registered_in_the_teleop_registry_is_accepted():
    TELEOP.register("haptic_glove", "my_package.glove:Glove")
    try:
        assert parse({"device": "haptic_glove"}).enabled
    finally:
        TELEOP.unregister("haptic_glove")
    assert not parse({}).enabled
