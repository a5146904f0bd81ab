"""BufferConfig: nested cache and durability sections, and the flat keys of older run folders."""

import pytest
import yaml

from fleetrl.buffer.config import BufferConfig, CacheConfig, DurabilityConfig
from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError

# The `buffer` section of a config.yaml resolved before the sections existed (every default written out).
OLD_RESOLVED = """
storage: disk
path: null
writer: learner
capacity: 200000
recent_window: null
durability: episode
group_commit_ms: 20.0
compression: zstd
cache_mb: 256.0
cache_mode: exact
rotate_per_batch: 0.5
prefetch_batches: 0
load: []
demos: []
demo_ratio: 0.5
interventions_as_demos: false
"""


def test_flat_keys_of_an_old_resolved_config_load_into_the_sections():
    config = validate(BufferConfig, yaml.safe_load(OLD_RESOLVED), "config.yaml: buffer")
    assert config.durability == DurabilityConfig(mode="episode", group_commit_ms=20.0)
    assert config.cache == CacheConfig(mb=256.0, mode="exact", rotate_per_batch=0.5, prefetch_batches=0)
    assert config.cache.max_bytes == 256 << 20 and config.compression == "zstd"


def test_the_dumped_config_is_nested_and_loads_back_the_same():
    config = BufferConfig(durability="chunk", cache_mode="none", prefetch_batches=0)  # keywords too
    dumped = config.model_dump(mode="json")
    assert dumped["durability"] == {"mode": "chunk", "group_commit_ms": 50.0}
    assert dumped["cache"] == {"mb": 1024.0, "mode": "none", "rotate_per_batch": 0.25, "prefetch_batches": 0}
    assert not {"cache_mb", "cache_mode", "rotate_per_batch", "prefetch_batches", "group_commit_ms"} & set(dumped)
    assert BufferConfig.model_validate(yaml.safe_load(yaml.safe_dump(dumped))) == config


def test_a_flat_key_beside_its_section_wins_as_a_resume_override_means():
    nested = BufferConfig(cache={"mb": 64, "mode": "exact"}, durability={"mode": "chunk"}).model_dump(mode="json")
    config = BufferConfig.model_validate({**nested, "cache_mb": 8, "group_commit_ms": 5})
    assert config.cache.mb == 8 and config.cache.mode == "exact"
    assert config.durability == DurabilityConfig(mode="chunk", group_commit_ms=5)
    replaced = BufferConfig.model_validate({**nested, "durability": "group"})  # buffer.durability=group
    assert replaced.durability.mode == "group"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"cache": {"mode": "off"}}, "buffer.cache.mode"),
        ({"cache_mode": "fast"}, "buffer.cache.mode"),
        ({"durability": "sometimes"}, "buffer.durability.mode"),
        ({"durability": {"mode": "group", "group_commit_ms": 0}}, "buffer.durability.group_commit_ms"),
        ({"cache": {"mb": 1, "size": 2}}, "buffer.cache.size: unknown key"),
        ({"storage": "tape"}, "buffer.storage"),
        ({"writer": "robot"}, "buffer.writer"),
        ({"compression": "gzip"}, "buffer.compression"),
    ],
)
def test_a_bad_value_names_its_key(data, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(BufferConfig, data, "buffer")


def test_sections_are_checked_once_and_frozen():
    with pytest.raises(ValueError):
        DurabilityConfig(mode="never")
    with pytest.raises(ValueError):
        CacheConfig(mb=-1)
    with pytest.raises(ValueError):
        CacheConfig().mode = "exact"
