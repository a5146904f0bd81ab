"""PersistentReplay: what is sampled, from where, and what survives closing and damage."""

import logging
import time

import numpy as np
import pytest

from fleetrl.buffer.config import MB, CacheConfig, DurabilityConfig
from fleetrl.buffer.hot_stores import ExactCacheStore, HotSlabStore, NoCacheStore
from fleetrl.buffer.persistent import PersistentReplay
from fleetrl.buffer.shard_layout import find_shards
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE

CHUNK = DurabilityConfig(mode="chunk")


def chunk(seq: int, n: int = 16, source=SOURCE_ONLINE, image=(8, 8, 3)) -> dict:
    """A chunk whose every row is recognisable: reward = seq, state[:, 0] = row."""
    rng = np.random.default_rng(seq)
    return {
        "obs.img": rng.integers(0, 255, (n, *image), dtype=np.uint8),
        "obs.state": np.stack([np.arange(n), np.full(n, seq)], axis=1).astype(np.float32),
        "next_obs.img": rng.integers(0, 255, (n, *image), dtype=np.uint8),
        "next_obs.state": rng.normal(size=(n, 2)).astype(np.float32),
        "action": rng.normal(size=(n, 3)).astype(np.float32),
        "reward": np.full(n, seq, np.float32),
        "terminated": np.zeros(n, np.float32),
        "truncated": (np.arange(n) == n - 1).astype(np.float32),
        "policy_version": np.full(n, seq, np.int64),
        "robot": np.zeros(n, np.int64),
        "source": np.broadcast_to(np.asarray(source, np.int8), (n,)).copy(),
    }


def replay(path, mode="exact", **kwargs) -> PersistentReplay:
    cache = kwargs.pop("cache", CacheConfig(mb=64, mode=mode, prefetch_batches=0))
    return PersistentReplay.open(path, durability=CHUNK, cache=cache, **kwargs)


def test_sampled_rows_are_bit_identical_to_what_was_written_and_survive_reopening(tmp_path):
    with replay(tmp_path) as r:
        for seq in range(20):
            r.add(chunk(seq))
        assert r.acknowledged == len(r) == 320
    with replay(tmp_path, mode="none") as r:  # every read from disk
        assert r.acknowledged == len(r) == 320
        batch = r.sample_flat(200)
    for j in range(200):
        seq, row = int(batch["reward"][j]), int(batch["obs.state"][j, 0])
        original = chunk(seq)
        for key, value in original.items():
            assert np.array_equal(batch[key][j], value[row]), key


def test_exact_sampling_is_uniform_over_transitions_not_records(tmp_path):
    with replay(tmp_path) as r:
        r.add(chunk(0, n=120))  # one big record ...
        for seq in range(1, 5):
            r.add(chunk(seq, n=10))  # ... and four small ones
        seqs = np.concatenate([r.sample_flat(256)["reward"] for _ in range(40)])
    share_big = float(np.mean(seqs == 0))
    assert abs(share_big - 120 / 160) < 0.03  # by record it would be 1/5


def test_hot_mode_samples_only_what_is_in_memory_and_rotates_through_everything(tmp_path):
    with replay(tmp_path, mode="none") as r:
        for seq in range(40):
            r.add(chunk(seq, n=16, image=(32, 32, 3)))
    per_record = sum(a.nbytes for a in chunk(0, n=16, image=(32, 32, 3)).values())
    cache = CacheConfig(mb=per_record * 8 / MB, mode="hot", rotate_per_batch=2.0, prefetch_batches=0)
    with PersistentReplay.open(tmp_path, cache=cache) as r:
        deadline = time.monotonic() + 10
        while len(r.hot.slab) < 8 and time.monotonic() < deadline:  # the loader fills memory first
            time.sleep(0.01)
        seen, batches = set(), 0
        while seen != set(range(40)) and time.monotonic() < deadline + 20:
            batch = r.sample_flat(64)
            drawn = {int(s) for s in batch["reward"]}
            seen |= drawn
            batches += 1
            assert len(drawn) <= 8  # never more records than memory holds
            time.sleep(0.002)  # a learner's pace: the loader swaps records in the background
        assert seen == set(range(40))  # rotation gave every record its turn
        assert r.stats()["buffer_cache_hit_rate"] == 1.0  # every batch came from memory
        assert r.stats()["buffer_records_loaded"] >= 32


def test_demonstrations_fill_their_share_and_interventions_can_join_them(tmp_path):
    with replay(tmp_path, demo_ratio=0.25) as r:
        r.add(chunk(1, source=SOURCE_ONLINE))
        r.add(chunk(2, source=SOURCE_DEMO))
        r.add(chunk(3, source=SOURCE_INTERVENTION))
        assert len(r) == 32 and r.num_demos == 16  # interventions count as online by default
        batch = r.sample_flat(100)
        assert np.sum(batch["source"] == SOURCE_DEMO) == 25
        assert (batch["source"][:75] != SOURCE_DEMO).all()  # online first, then demonstrations
    with replay(tmp_path, demo_ratio=0.5, demo_sources=(SOURCE_DEMO, SOURCE_INTERVENTION)) as r:
        assert len(r) == 16 and r.num_demos == 32
        batch = r.sample_flat(100)
        assert (batch["source"][:50] == SOURCE_ONLINE).all() and (batch["source"][50:] != SOURCE_ONLINE).all()


def test_demos_given_in_memory_are_mixed_in_but_never_written(tmp_path):
    with replay(tmp_path, demo_ratio=0.5) as r:
        r.add_demos(chunk(7, n=10, source=SOURCE_DEMO))
        assert r.sample_flat(10)["reward"].tolist() == [7.0] * 10  # no online data yet: all demos
        r.add(chunk(1))
        batch = r.sample_flat(10)
        assert sorted(set(batch["reward"].tolist())) == [1.0, 7.0]
    with replay(tmp_path) as r:
        assert r.num_demos == 0 and len(r) == 16


def test_recent_window_limits_online_sampling_to_the_newest_transitions(tmp_path):
    with replay(tmp_path, recent_window=32) as r:
        for seq in range(10):
            r.add(chunk(seq))
        seqs = set(r.sample_flat(500)["reward"].tolist())
    assert seqs == {8.0, 9.0}


def test_a_damaged_segment_is_named_left_out_and_sampling_goes_on(tmp_path, caplog):
    source = tmp_path / "old"
    with ShardWriter(source / "shards" / "a", CHUNK, segment_bytes=4096) as writer:
        for seq in range(12):
            writer.add(chunk(seq))
    segments = sorted((source / "shards" / "a" / "segments").glob("*.seg"))
    assert len(segments) > 3
    victim = segments[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), replay(None, mode="none", read_only=[source]) as r:
        before = len(r)
        for _ in range(30):
            batch = r.sample_flat(64)
        assert len(r) < before
        assert victim.name in caplog.text
    damaged = {int(s) for s in range(12)} - {int(s) for s in batch["reward"]}
    assert damaged  # the records of the damaged segment no longer come up


def test_records_of_another_writer_under_the_same_root_are_picked_up(tmp_path):
    with replay(tmp_path, shard="learner", refresh_s=0.0) as r:
        r.add(chunk(1))
        with ShardWriter(tmp_path / "shards" / "node2", CHUNK) as other:
            other.add(chunk(2))
        r.refresh()
        assert len(r) == 32
        assert set(r.sample_flat(200)["reward"].tolist()) == {1.0, 2.0}
    assert [p.name for p in find_shards(tmp_path)] == ["learner", "node2"]


def test_read_only_replay_refuses_writes_and_layouts_must_agree(tmp_path):
    with replay(tmp_path) as r:
        r.add(chunk(1))
        with pytest.raises(ValueError, match="layout"):
            r.add(chunk(2, image=(4, 4, 3)))
    with replay(None, read_only=[tmp_path]) as r:
        assert len(r) == 16 and r.acknowledged == 16  # read-only: what every shard read holds
        with pytest.raises(RuntimeError, match="read-only"):
            r.add(chunk(3))


def test_prefetched_batches_follow_the_batch_size_asked_for(tmp_path):
    cache = CacheConfig(mb=64, mode="hot", prefetch_batches=2)
    with PersistentReplay.open(tmp_path, cache=cache, durability=CHUNK) as r:
        with pytest.raises(ValueError, match="empty"):
            r.sample(8)
        r.add(chunk(1))
        assert r.sample(8)["action"].shape == (8, 3)
        assert r.sample(5)["obs"]["img"].shape == (5, 8, 8, 3)


STATS_KEYS = {
    "buffer_transitions", "buffer_sampleable", "buffer_cache_bytes", "buffer_cache_records",
    "buffer_cache_hit_rate", "buffer_records_loaded",
}


@pytest.mark.parametrize(("mode", "store"), [("hot", HotSlabStore), ("exact", ExactCacheStore), ("none", NoCacheStore)])
def test_the_cache_mode_picks_one_store_and_every_store_reports_the_same_stats(tmp_path, mode, store):
    with replay(tmp_path, mode=mode) as r:
        assert type(r.hot) is store
        for seq in range(4):
            r.add(chunk(seq))
        r.sample_flat(32)
        r.sample_flat(32)
        stats = r.stats()
    assert set(stats) == STATS_KEYS and stats["buffer_transitions"] == 64.0
    assert (stats["buffer_cache_bytes"] > 0) == (mode != "none")
    if mode == "exact":  # the records just written were cached on commit
        assert stats["buffer_cache_hit_rate"] == 1.0 and stats["buffer_cache_records"] == 4


def test_the_same_seed_gives_the_same_batches_and_the_state_dict_replays_them(tmp_path):
    with replay(tmp_path / "a", seed=7, demo_ratio=0.25) as r:
        for seq in range(6):
            r.add(chunk(seq, source=SOURCE_DEMO if seq % 3 == 0 else SOURCE_ONLINE))
    batches = []
    for _ in range(2):
        with replay(None, mode="none", read_only=[tmp_path / "a"], seed=7, demo_ratio=0.25) as r:
            batches.append([r.sample_flat(50)["reward"] for _ in range(3)])
            state = r.state_dict()
            following = r.sample_flat(50)["reward"]
            r.load_state_dict(state)
            assert np.array_equal(r.sample_flat(50)["reward"], following)
    for first, second in zip(*batches):
        assert np.array_equal(first, second)


def test_an_expert_only_replay_counts_and_serves_expert_steps_only(tmp_path):
    with replay(tmp_path, demo_ratio=1.0, demo_sources=(SOURCE_DEMO, SOURCE_INTERVENTION)) as r:
        r.add(chunk(1, source=SOURCE_ONLINE))
        assert len(r) == 16 and r.sampleable == 0
        with pytest.raises(ValueError, match="no demonstration"):
            r.sample_flat(8)
        r.add(chunk(2, source=SOURCE_INTERVENTION))
        assert r.sampleable == r.num_demos == 16
        assert set(r.sample_flat(64)["reward"].tolist()) == {2.0}
    with replay(tmp_path, demo_ratio=0.5) as r:
        assert r.sampleable == len(r) == 32  # a mixing replay: what the learner waits for is online data


def test_close_is_idempotent_and_flush_acknowledges_what_is_pending(tmp_path):
    slow = DurabilityConfig(mode="group", group_commit_ms=60_000)
    r = PersistentReplay.open(tmp_path, durability=slow, cache=CacheConfig(mode="none", prefetch_batches=0))
    r.add(chunk(1))
    assert r.acknowledged == 0
    r.flush()
    assert r.acknowledged == len(r) == 16
    r.close()
    r.close()
