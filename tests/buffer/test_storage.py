"""ArrayStorage: the ring of preallocated arrays."""

import numpy as np
import pytest

from fleetrl.buffer.storage import ArrayStorage


def test_ring_overwrites_the_oldest_in_order(make_chunk):
    storage = ArrayStorage(5)
    storage.add(make_chunk(0, 3))
    assert len(storage) == 3
    storage.add(make_chunk(3, 4))  # wraps: 5, 6 overwrite 0, 1
    assert len(storage) == 5 and storage.writer.cursor == 2
    batch = storage.get(np.arange(5))
    assert batch["reward"].tolist() == [5, 6, 2, 3, 4]
    np.testing.assert_array_equal(batch["obs"][:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(batch["next_obs"][:, 0], [6, 7, 3, 4, 5])
    assert batch["policy_version"].tolist() == [5, 6, 2, 3, 4]


def test_a_chunk_larger_than_the_capacity_keeps_its_newest(make_chunk):
    storage = ArrayStorage(4)
    storage.add(make_chunk(0, 1))
    storage.add(make_chunk(100, 10))
    assert sorted(storage.get(np.arange(4))["reward"].tolist()) == [106, 107, 108, 109]


def test_dict_observations_with_uint8_images_come_back_as_dicts(make_chunk):
    storage = ArrayStorage(8)
    storage.add(make_chunk(10, 6, pixels=True))
    batch = storage.get(np.array([0, 5, 5]))
    assert set(batch["obs"]) == {"state", "wrist"} and set(batch["next_obs"]) == {"state", "wrist"}
    assert batch["obs"]["wrist"].dtype == np.uint8 and batch["obs"]["wrist"].shape == (3, 16, 16, 3)
    assert batch["obs"]["wrist"][:, 0, 0, 0].tolist() == [10, 15, 15]
    assert batch["next_obs"]["state"][:, 0].tolist() == [11, 16, 16]
    assert {"action", "reward", "terminated", "policy_version", "robot", "source"} <= set(batch)
    assert storage.nbytes_per_transition == 2 * (16 * 16 * 3 + 8 * 4) + 4 * 4 + 3 * 4 + 8 + 8 + 1 + 1 + 4


def test_a_pixel_transition_with_two_128px_cameras_costs_about_197_kb():
    n = 1
    chunk = {
        "obs.state": np.zeros((n, 8), np.float32), "next_obs.state": np.zeros((n, 8), np.float32),
        "obs.wrist": np.zeros((n, 128, 128, 3), np.uint8), "next_obs.wrist": np.zeros((n, 128, 128, 3), np.uint8),
        "obs.scene": np.zeros((n, 128, 128, 3), np.uint8), "next_obs.scene": np.zeros((n, 128, 128, 3), np.uint8),
        "action": np.zeros((n, 7), np.float32), "reward": np.zeros(n, np.float32),
        "terminated": np.zeros(n, np.float32), "truncated": np.zeros(n, np.float32),
        "policy_version": np.zeros(n, np.int64), "robot": np.zeros(n, np.int64), "source": np.zeros(n, np.int8),
    }
    storage = ArrayStorage(2)
    storage.add(chunk)
    assert storage.nbytes_per_transition == 196_729


def test_chunks_must_keep_the_layout(make_chunk):
    storage = ArrayStorage(8)
    storage.add(make_chunk(0, 2))
    with pytest.raises(ValueError, match="keys"):
        storage.add(make_chunk(0, 2, pixels=True))
    bad = make_chunk(0, 2) | {"obs": np.zeros((2, 6), np.float32)}
    with pytest.raises(ValueError, match="obs"):
        storage.add(bad)
    with pytest.raises(TypeError):  # a float image cannot silently become uint8 (same-kind casting)
        pixels = ArrayStorage(4)
        pixels.add(make_chunk(0, 2, pixels=True))
        pixels.add(make_chunk(0, 2, pixels=True) | {"obs.wrist": np.zeros((2, 16, 16, 3), np.float32)})
    with pytest.raises(IndexError):
        storage.get(np.array([2]))


def test_state_dict_round_trip_restores_contents_and_cursor(make_chunk):
    storage = ArrayStorage(5)
    storage.add(make_chunk(0, 7))
    restored = ArrayStorage(5)
    restored.load_state_dict(storage.state_dict())
    assert len(restored) == 5 and restored.writer.cursor == storage.writer.cursor
    for key, value in storage.get_flat(np.arange(5)).items():
        np.testing.assert_array_equal(restored.get_flat(np.arange(5))[key], value)
    storage.add(make_chunk(7, 1))
    restored.add(make_chunk(7, 1))
    np.testing.assert_array_equal(restored.get(np.arange(5))["reward"], storage.get(np.arange(5))["reward"])
    empty = ArrayStorage(3)
    empty.load_state_dict(ArrayStorage(3).state_dict())
    assert len(empty) == 0
