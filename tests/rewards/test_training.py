"""Labelled frames from buffers and demo files, the split by episode, and training that learns
(and, on shuffled labels, does not)."""

from __future__ import annotations

import numpy as np
import pytest
import square_frames

from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.demos import save_demos
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.transitions import concat_chunks
from fleetrl.rewards.classifier import SuccessClassifier
from fleetrl.rewards.train_classifier import LabelError, LabelledFrames, load_labelled_frames, split_by_episode, train_classifier


def tagged_episode(number: int, length: int, robot: int, end: str = "truncated") -> dict:
    """An episode whose frames carry its number (red channel) and step (green channel)."""
    frames = np.zeros((length, 8, 8, 3), np.uint8)
    frames[..., 0] = number
    frames[..., 1] = np.arange(length)[:, None, None]
    labels = (np.arange(length) == length - 1).astype(np.float32)
    return square_frames.chunk_of(frames, labels, camera="wrist", robot=robot, end=end)


def rows(chunk: dict, start: int, stop: int) -> dict:
    return {k: v[start:stop] for k, v in chunk.items()}


def assert_episodes_match_tags(data: LabelledFrames, expected: int) -> None:
    tags = data.frames["wrist"][:, 0, 0, 0]
    assert len(np.unique(data.episodes)) == expected
    for episode in np.unique(data.episodes):
        assert len(np.unique(tags[data.episodes == episode])) == 1, "an episode id spans two episodes"
    for tag in np.unique(tags):
        assert len(np.unique(data.episodes[tags == tag])) == 1, "an episode was split"


def test_episodes_of_a_buffer_follow_each_robot_across_chunks_and_shards(tmp_path):
    a0, a1, b0 = tagged_episode(1, 6, robot=0), tagged_episode(2, 3, robot=0, end="terminated"), tagged_episode(3, 7, robot=1)
    with ShardWriter(tmp_path / "buf" / "shards" / "one", DurabilityConfig(mode="chunk")) as writer:
        # Robots interleave, and episodes 1 and 3 continue from the first chunk into the second.
        writer.add(concat_chunks([rows(a0, 0, 4), rows(b0, 0, 2)]))
        writer.add(concat_chunks([rows(b0, 2, 7), rows(a0, 4, 6), a1]))
    with ShardWriter(tmp_path / "buf" / "shards" / "two", DurabilityConfig(mode="chunk")) as writer:
        writer.add(tagged_episode(4, 5, robot=0))
    save_demos(tmp_path / "demos.npz", concat_chunks([tagged_episode(5, 4, robot=0), tagged_episode(6, 4, robot=0)]), {})
    data = load_labelled_frames([tmp_path / "buf", tmp_path / "demos.npz"], "wrist")
    assert len(data) == 6 + 3 + 7 + 5 + 4 + 4
    assert_episodes_match_tags(data, expected=6)
    assert data.class_counts() == {"success": 6, "failure": len(data) - 6}
    assert (data.actors == 0).all()


def test_missing_labels_and_cameras_are_named(tmp_path):
    episode = tagged_episode(1, 4, robot=0)
    episode["reward"] = np.array([0, 0, 1, 0], np.float32)
    del episode["success"]
    save_demos(tmp_path / "old.npz", episode, {})
    with pytest.raises(LabelError, match="old.npz: no 'success' field .* --label-from-reward"):
        load_labelled_frames([tmp_path / "old.npz"], "wrist")
    data = load_labelled_frames([tmp_path / "old.npz"], "wrist", label_from_reward=True)
    assert data.labels.tolist() == [0, 0, 1, 0]
    with pytest.raises(LabelError, match="no camera 'scene' \\(cameras: state, wrist\\)"):
        load_labelled_frames([tmp_path / "old.npz"], "scene")
    with pytest.raises(FileNotFoundError, match="neither a buffer folder nor a .npz"):
        load_labelled_frames([tmp_path / "nothing"], "wrist")


def square_data(episodes: int = 150, seed: int = 0) -> LabelledFrames:
    eps = square_frames.episodes(episodes, seed=seed)
    return LabelledFrames({"wrist": np.concatenate([f for f, _ in eps])}, np.concatenate([y for _, y in eps]),
                          np.repeat(np.arange(episodes), len(eps[0][1])), np.zeros(episodes * len(eps[0][1]), np.int8))


def test_the_split_holds_out_whole_episodes_of_both_kinds_reproducibly():
    data = square_data(60)
    train, held = split_by_episode(data, held_out=0.25, seed=1)
    assert len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == len(data)
    assert not set(data.episodes[train]) & set(data.episodes[held])  # no episode on both sides
    assert abs(len(set(data.episodes[held])) - 15) <= 1  # a quarter of each kind, rounded
    assert data.labels[held].max() == 1.0 and data.labels[held].min() == 0.0
    again, _ = split_by_episode(data, held_out=0.25, seed=1)
    other, _ = split_by_episode(data, held_out=0.25, seed=2)
    assert np.array_equal(train, again) and not np.array_equal(train, other)
    with pytest.raises(LabelError, match="at least two"):
        split_by_episode(data.subset(np.flatnonzero(data.episodes == 0)), 0.2, 0)


def test_training_learns_where_the_square_is_and_fails_on_shuffled_labels(tmp_path):
    """The accuracy bar is only meaningful if it can be missed: the same training on labels
    shuffled across frames must land near chance on held-out episodes."""
    data = square_data()
    assert 0.15 < data.labels.mean() < 0.4  # success is the rarer class
    result = train_classifier(data, tmp_path / "m.pt", epochs=8, held_out=0.2, seed=0, sheet=tmp_path / "m.png")
    assert result["accuracy"] >= 0.9 and result["recall"] >= 0.85 and result["precision"] >= 0.8, result
    assert result["episodes"] == {"train": 120, "held_out": 30}
    counts = result["class_counts"]
    assert sum(counts["train"].values()) + sum(counts["held_out"].values()) == len(data)
    assert (tmp_path / "m.png").stat().st_size > 0
    loaded = SuccessClassifier.load(result["model"])
    assert loaded.config.cameras == ("wrist",) and loaded.config.height == 32

    shuffled = LabelledFrames(data.frames, np.random.default_rng(1).permutation(data.labels), data.episodes, data.actors)
    chance = train_classifier(shuffled, tmp_path / "s.pt", epochs=8, held_out=0.2, seed=0)
    assert chance["accuracy"] < 0.75, chance


def test_training_needs_both_classes(tmp_path):
    data = square_data(20)
    data.labels[:] = 0.0
    with pytest.raises(LabelError, match="no success frames"):
        train_classifier(data, tmp_path / "m.pt", epochs=1)
