"""Labelled frames of a simulated task: the chunk format, both classes, who acted."""

from __future__ import annotations

import numpy as np

from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_POLICY, chunk_len
from fleetrl.rewards.sim_frames import BEHAVIOURS, collect_sim_frames
from fleetrl.rewards.train_classifier import frames_from_chunks


def test_pick_cube_frames_hold_both_classes_in_the_chunk_format():
    chunk, meta = collect_sim_frames(episodes=len(BEHAVIOURS), steps=20, image_size=32, cameras=("scene",), seed=0)
    assert chunk_len(chunk) == 4 * 20 and chunk["next_obs.scene"].shape == (80, 32, 32, 3)
    assert "next_obs.wrist" not in chunk and chunk["next_obs.state"].shape == (80, 8)
    assert meta["frames"]["expert"]["success"] > 0 and meta["frames"]["random"]["success"] == 0
    assert chunk["success"].sum() == sum(counts["success"] for counts in meta["frames"].values())
    assert set(np.unique(chunk["actor"])) == {ACTOR_EXPERT, ACTOR_POLICY}
    assert chunk["truncated"].sum() == 4  # shaped reward: a success does not end the episode
    data = frames_from_chunks([("sim", "sim", chunk)], "scene")
    assert len(np.unique(data.episodes)) == 4
