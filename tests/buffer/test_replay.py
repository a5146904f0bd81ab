"""ReplayBuffer: online plus demonstrations, thread-safe adds, checkpoints, the config factory."""

import threading

import numpy as np
import pytest

from fleetrl.buffer.build import build_replay
from fleetrl.buffer.config import BufferConfig
from fleetrl.buffer.demos import save_demos
from fleetrl.buffer.replay import ReplayBuffer
from fleetrl.buffer.samplers import MixedSampler
from fleetrl.buffer.storage import ArrayStorage
from fleetrl.core.errors import ConfigError
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE


def test_mixed_batches_draw_the_demo_ratio_from_demonstrations(make_chunk):
    buffer = ReplayBuffer(ArrayStorage(1000), MixedSampler(0.5, seed=0))
    buffer.add_demos(make_chunk(10_000, 50, source=SOURCE_DEMO))
    only_demos = buffer.sample(64)  # nothing online yet: all demonstrations
    assert (only_demos["source"] == SOURCE_DEMO).all()
    buffer.add(make_chunk(0, 500))
    for batch_size in (256, 100, 7):
        batch = buffer.sample(batch_size)
        sources = batch["source"]
        assert len(sources) == batch_size
        assert (sources == SOURCE_DEMO).sum() == round(0.5 * batch_size)
        demo_rows = sources == SOURCE_DEMO
        assert (batch["reward"][demo_rows] >= 10_000).all() and (batch["reward"][~demo_rows] < 500).all()
        np.testing.assert_array_equal(batch["obs"][:, 0], batch["reward"])  # rows stay whole
    assert len(buffer) == 500 and buffer.num_demos == 50


def test_without_demos_batches_are_all_online(make_chunk):
    buffer = build_replay(BufferConfig(storage="memory", capacity=100), seed=0)
    buffer.add(make_chunk(0, 10, pixels=True))
    batch = buffer.sample(32)
    assert (batch["source"] == SOURCE_ONLINE).all()
    assert batch["obs"]["wrist"].dtype == np.uint8 and batch["obs"]["wrist"].shape == (32, 16, 16, 3)
    assert set(batch) >= {"obs", "next_obs", "action", "reward", "terminated"}


def test_demos_and_online_data_must_share_a_layout(make_chunk):
    buffer = ReplayBuffer(ArrayStorage(10))
    buffer.add_demos(make_chunk(0, 3, source=SOURCE_DEMO))
    with pytest.raises(ValueError, match="keys"):
        buffer.add(make_chunk(0, 3, pixels=True))


def test_concurrent_adds_and_samples_lose_nothing(make_chunk):
    buffer = ReplayBuffer(ArrayStorage(100_000))
    errors = []

    def writer(offset):
        for i in range(50):
            buffer.add(make_chunk(offset + i * 10, 10))

    def learner():
        try:
            for _ in range(200):
                if len(buffer):
                    batch = buffer.sample(16)
                    np.testing.assert_array_equal(batch["obs"][:, 0], batch["reward"])
        except Exception as err:  # reported below: assertion errors in a thread are otherwise lost
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k * 100_000,)) for k in range(4)]
    threads.append(threading.Thread(target=learner))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads) and not errors
    assert len(buffer) == buffer.transitions_added == 4 * 50 * 10


def test_state_dict_round_trip_resumes_identically(make_chunk):
    buffer = ReplayBuffer(ArrayStorage(20), MixedSampler(0.25, seed=1))
    buffer.add_demos(make_chunk(500, 2, source=SOURCE_DEMO))
    buffer.add_demos(make_chunk(502, 3, source=SOURCE_DEMO))  # the demo storage grows
    buffer.add(make_chunk(0, 30))
    restored = ReplayBuffer(ArrayStorage(20), MixedSampler(0.25, seed=99))
    restored.load_state_dict(buffer.state_dict())
    assert len(restored) == 20 and restored.num_demos == 5 and restored.transitions_added == 30
    assert sorted(restored.demo_storage.get(np.arange(5))["reward"].tolist()) == [500, 501, 502, 503, 504]
    a, b = buffer.sample(16), restored.sample(16)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_build_replay_loads_demo_files(tmp_path, make_chunk):
    save_demos(tmp_path / "a.npz", make_chunk(1000, 8, source=SOURCE_DEMO), {"env_id": "x"})
    save_demos(tmp_path / "b.npz", make_chunk(2000, 4, source=SOURCE_DEMO), {"env_id": "x"})
    config = BufferConfig(storage="memory", capacity=50, demos=[str(tmp_path / "a.npz"), str(tmp_path / "b.npz")], demo_ratio=0.25)
    buffer = build_replay(config, seed=0)
    assert buffer.num_demos == 12 and len(buffer) == 0
    buffer.add(make_chunk(0, 10))
    assert (buffer.sample(40)["source"] == SOURCE_DEMO).sum() == 10


def test_build_replay_names_the_missing_or_malformed_demo_file(tmp_path, make_chunk):
    good = tmp_path / "good.npz"
    save_demos(good, make_chunk(0, 2, source=SOURCE_DEMO), {})
    missing = tmp_path / "missing.npz"
    with pytest.raises(ConfigError, match=r"buffer\.demos\[1\].*missing\.npz"):
        build_replay(BufferConfig(storage="memory", demos=[str(good), str(missing)]))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(ConfigError, match=r"buffer\.demos\[0\].*junk\.npz"):
        build_replay(BufferConfig(storage="memory", demos=[str(junk)]))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, reward=np.zeros(3))
    with pytest.raises(ConfigError, match=r"buffer\.demos\[0\].*foreign\.npz.*metadata"):
        build_replay(BufferConfig(storage="memory", demos=[str(foreign)]))


def test_the_in_memory_replay_acknowledges_on_add_and_has_nothing_to_flush_or_close(make_chunk):
    buffer = ReplayBuffer(ArrayStorage(20), MixedSampler(0.5, seed=0))
    buffer.add(make_chunk(0, 30))  # 10 overwritten at once
    buffer.refresh()
    buffer.flush()
    assert buffer.acknowledged == 30 and len(buffer) == buffer.sampleable == 20
    assert buffer.stats() == {"buffer_transitions": 30.0, "buffer_sampleable": 20.0}
    buffer.close()
    buffer.close()
    demos_only = ReplayBuffer(ArrayStorage(20), MixedSampler(1.0, seed=0))
    demos_only.add(make_chunk(0, 5))
    demos_only.add_demos(make_chunk(100, 3, source=SOURCE_DEMO))
    assert demos_only.sampleable == demos_only.num_demos == 3


def test_an_expert_only_replay_from_the_config_counts_expert_steps(tmp_path, make_chunk):
    config = BufferConfig(durability={"mode": "chunk"}, cache={"prefetch_batches": 0})
    replay = build_replay(config, seed=0, default_path=tmp_path, expert_only=True)
    try:
        replay.add(make_chunk(0, 10))
        replay.add(make_chunk(10, 4, source=SOURCE_INTERVENTION))
        assert len(replay) == 10 and replay.sampleable == replay.num_demos == 4
    finally:
        replay.close()
    with pytest.raises(ConfigError, match="buffer.storage"):
        build_replay(BufferConfig(storage="memory"), expert_only=True)
