"""The run config's typed parts owned by env, rewards and runtime: they load, dump and reload equal,
and a bad value fails at load time naming its key."""

import pytest
import yaml

from fleetrl.core.errors import ConfigError
from fleetrl.rewards.entries import ClassifierEntry, HumanLabelEntry, SuccessEntry, TaskEntry
from fleetrl.runtime.config import dump_run_config, parse_run_config

REWARDS = [
    {"type": "success", "weight": 2.0},
    {"type": "classifier", "path": "success.pt", "threshold": 0.8, "ends_episode": True, "worker": "own"},
    {"type": "human_label", "device": "keyboard", "wait_at_end_s": 3.0},
    {"type": "task", "weight": 0.1},
]


def run(**sections):
    return parse_run_config({"env": {"id": "fleetrl/PickCube-v0", "robots": ["sim_panda"]}, **sections}, "run.yaml")


def test_rewards_are_typed_entries_that_round_trip_through_dump_and_load():
    config = run(rewards=REWARDS)
    assert [type(entry) for entry in config.rewards] == [SuccessEntry, ClassifierEntry, HumanLabelEntry, TaskEntry]
    assert config.rewards[1].needs_frames and config.rewards[2].needs_teleop and not config.rewards[0].needs_frames
    dumped = yaml.safe_load(dump_run_config(config))
    assert dumped["rewards"][1] == {"type": "classifier", "weight": 1.0, "worker": "own", "path": "success.pt",
                                    "mode": "replace", "threshold": 0.8, "ends_episode": True, "device": "cpu"}
    assert parse_run_config(dumped, "dumped") == config
    assert run().rewards == []  # none: the env's own reward


@pytest.mark.parametrize(
    ("rewards", "message"),
    [
        ([{"type": "task"}, {"type": "classifier"}], "run.yaml.rewards[1].path: Field required"),
        ([{"type": "learned"}], "run.yaml.rewards[0]: Value error, unknown reward type 'learned'; known types: classifier, human_label"),
        ([{"type": "human_label", "worker": "own"}], "run.yaml.rewards[0].worker: a human_label reward reads the teleop device"),
    ],
)
def test_a_bad_reward_fails_at_load_naming_its_key(rewards, message):
    with pytest.raises(ConfigError) as err:
        run(rewards=rewards)
    assert message in str(err.value)


def test_intervention_loads_the_old_flat_keys_and_dumps_the_nested_rule():
    config = run(intervention={"device": "expert", "rule": "divergence", "threshold": 0.6, "hold_steps": 10})
    dumped = yaml.safe_load(dump_run_config(config))
    assert dumped["intervention"]["rule"]["kind"] == "divergence" and dumped["intervention"]["rule"]["threshold"] == 0.6
    assert parse_run_config(dumped, "dumped") == config


def test_enumerated_runtime_and_env_fields():
    assert run().env.success_key is None
    assert run(env={"id": "x/y-v0", "success_key": "succeed"}).env.success_key == "succeed"
    with pytest.raises(ConfigError, match=r"run.yaml.runtime.mode: Input should be 'async' or 'sync'"):
        run(runtime={"mode": "lockstep"})
    with pytest.raises(ConfigError, match=r"run.yaml.runtime.inference: Input should be 'local' or 'remote'"):
        run(runtime={"inference": "cloud"})
