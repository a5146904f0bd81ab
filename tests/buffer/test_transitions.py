"""The chunk format: flattening observations and building chunks step by step."""

import gymnasium as gym
import numpy as np
import pytest

from fleetrl.core.transitions import (
    SOURCE_INTERVENTION,
    ChunkBuilder,
    chunk_len,
    concat_chunks,
    flatten_obs,
    unflatten,
)

PIXEL_SPACE = gym.spaces.Dict(
    {
        "state": gym.spaces.Box(-np.inf, np.inf, (8,), np.float32),
        "wrist": gym.spaces.Box(0, 255, (16, 16, 3), np.uint8),
    }
)


def pixel_obs(i: int) -> dict:
    return {"state": np.full(8, i, np.float32), "wrist": np.full((16, 16, 3), i, np.uint8)}


def test_flatten_and_unflatten_round_trip_dict_and_vector_observations():
    obs = pixel_obs(3)
    flat = flatten_obs(obs)
    assert set(flat) == {"obs.state", "obs.wrist"}
    back = unflatten({**flat, **flatten_obs(pixel_obs(4), "next_obs"), "reward": np.zeros(1)})
    assert back["obs"]["wrist"].dtype == np.uint8
    np.testing.assert_array_equal(back["next_obs"]["state"], np.full(8, 4, np.float32))
    assert "reward" in back
    vector = flatten_obs(np.arange(3.0))
    assert list(vector) == ["obs"]


def test_builder_yields_full_chunks_then_flushes_the_rest():
    builder = ChunkBuilder(PIXEL_SPACE, chunk_size=4)
    for i in range(10):
        builder.append(pixel_obs(i), np.full(4, 0.1 * i), float(i), pixel_obs(i + 1), i == 9, False,
                       policy_version=i // 5, robot=2, source=SOURCE_INTERVENTION)
    first, second = builder.pop_chunk(), builder.pop_chunk()
    assert builder.pop_chunk() is None
    rest = builder.flush()
    assert [chunk_len(c) for c in (first, second, rest)] == [4, 4, 2]
    assert builder.flush() is None and len(builder) == 0
    all_ = concat_chunks([first, second, rest])
    np.testing.assert_array_equal(all_["reward"], np.arange(10, dtype=np.float32))
    assert all_["obs.wrist"].dtype == np.uint8 and all_["obs.wrist"].shape == (10, 16, 16, 3)
    np.testing.assert_array_equal(all_["next_obs.wrist"][:, 0, 0, 0], np.arange(1, 11))
    assert all_["action"].dtype == np.float32 and all_["action"].shape == (10, 4)
    assert all_["terminated"].tolist() == [0.0] * 9 + [1.0]
    assert all_["policy_version"].dtype == np.int64 and all_["source"].dtype == np.int8
    assert set(all_["source"].tolist()) == {SOURCE_INTERVENTION} and set(all_["robot"].tolist()) == {2}


def test_builder_copies_observations_so_an_env_may_reuse_its_arrays():
    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float64)
    builder = ChunkBuilder(space, chunk_size=2)
    obs = np.zeros(3)
    for i in range(2):
        obs[:] = i
        builder.append(obs, np.zeros(1), 0.0, obs, False, False, 0)
    chunk = builder.pop_chunk()
    assert chunk["obs"].dtype == np.float32  # floating observations travel as float32
    np.testing.assert_array_equal(chunk["obs"][:, 0], [0.0, 1.0])


def test_builder_refuses_observations_that_do_not_match_the_space():
    builder = ChunkBuilder(PIXEL_SPACE, chunk_size=2)
    bad = pixel_obs(0) | {"wrist": np.zeros((8, 8, 3), np.uint8)}
    with pytest.raises(ValueError, match="wrist"):
        builder.append(bad, np.zeros(4), 0.0, pixel_obs(1), False, False, 0)


def test_chunk_len_checks_keys_and_lengths():
    chunk = ChunkBuilder(gym.spaces.Box(-1, 1, (2,), np.float32), 1)
    chunk.append(np.zeros(2), np.zeros(1), 0.0, np.zeros(2), False, False, 0)
    full = chunk.pop_chunk()
    assert chunk_len(full) == 1
    with pytest.raises(ValueError, match="leading length"):
        chunk_len(full | {"reward": np.zeros(2, np.float32)})
    with pytest.raises(ValueError, match="lacks"):
        chunk_len({k: v for k, v in full.items() if k != "next_obs"})
