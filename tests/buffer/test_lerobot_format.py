"""LeRobotDataset export and import: a buffer survives the round trip bit for bit, the written folder
follows the v3.0 layout, foreign datasets map as documented, and bad input is named."""

import io
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from fleetrl.buffer.config import DurabilityConfig
from fleetrl.buffer.formats import lerobot_layout
from fleetrl.buffer.formats.lerobot import export_lerobot, import_lerobot
from fleetrl.buffer.scan import iter_episodes
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.transitions import SOURCE_DEMO, SOURCE_INTERVENTION, SOURCE_ONLINE, concat_chunks

STATE_DIM, ACTION_DIM, SIDE = 8, 4, 16


def _image(robot: int, episode: int, t: int) -> np.ndarray:
    """A 16x16x3 frame with gradients, so a swapped row, column or channel shows."""
    y, x, c = np.meshgrid(np.arange(SIDE), np.arange(SIDE), np.arange(3), indexing="ij")
    return ((x * 16 + y * 3 + c * 80 + t * 7 + robot * 50 + episode * 11) % 256).astype(np.uint8)


def _observation(rng, robot, episode, t):
    return {"state": rng.normal(size=STATE_DIM).astype(np.float32), "wrist": _image(robot, episode, t)}


def _episode_steps(rng, robot, episode, length, end, sources, reset_at=None):
    """Transitions of one episode: next_obs[t] is obs[t+1], except after `reset_at` (a reset
    inside the episode) and at the last step (a final observation no step starts from)."""
    observations = [_observation(rng, robot, episode, t) for t in range(length + 1)]
    steps = []
    for t in range(length):
        following = observations[t + 1]
        if t == reset_at:
            following = _observation(rng, robot, episode + 100, t)
        last = t == length - 1
        steps.append({
            "obs.state": observations[t]["state"], "obs.wrist": observations[t]["wrist"],
            "next_obs.state": following["state"], "next_obs.wrist": following["wrist"],
            "action": rng.uniform(-1, 1, size=ACTION_DIM).astype(np.float32),
            "reward": np.float32(rng.normal()),
            "terminated": np.float32(last and end == "terminated"),
            "truncated": np.float32(last and end == "truncated"),
            "policy_version": np.int64(-1 if sources[t] == SOURCE_DEMO else 10 * episode + t),
            "robot": np.int64(robot),
            "source": np.int8(sources[t]),
        })
    return steps


def _stack(steps):
    return {key: np.stack([step[key] for step in steps]) for key in steps[0]}


def _make_buffer(root: Path) -> None:
    """Two robots writing interleaved chunks: five episodes, one terminated and one truncated at
    least, one split over three chunks, one with a reset inside, one left unfinished."""
    rng = np.random.default_rng(7)
    on, demo, hand = SOURCE_ONLINE, SOURCE_DEMO, SOURCE_INTERVENTION
    robot0 = (_episode_steps(rng, 0, 0, 5, "terminated", [on] * 5)
              + _episode_steps(rng, 0, 1, 9, "truncated", [on, on, hand, hand, on, on, on, on, on]))
    robot1 = (_episode_steps(rng, 1, 2, 6, "truncated", [demo] * 6, reset_at=2)
              + _episode_steps(rng, 1, 3, 4, "terminated", [on, hand, on, on])
              + _episode_steps(rng, 1, 4, 3, "unfinished", [on] * 3))
    chunks = [robot0[0:4], robot1[0:4], robot0[4:8], robot1[4:8], robot0[8:12], robot1[8:12]]
    chunks.append(robot0[12:] + robot1[12:])  # one chunk holding both robots' steps
    with ShardWriter(root / "shards" / "learner", DurabilityConfig(mode="chunk")) as writer:
        for steps in chunks:
            writer.add(_stack(steps))


def _assert_same_episodes(expected, got):
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(expected, got, strict=True)):
        assert sorted(a) == sorted(b), f"episode {i}: keys differ"
        for key in a:
            assert a[key].dtype == b[key].dtype, f"episode {i} {key}: dtype {b[key].dtype}, expected {a[key].dtype}"
            assert a[key].shape == b[key].shape, f"episode {i} {key}: shape {b[key].shape}"
            assert a[key].tobytes() == b[key].tobytes(), f"episode {i} {key}: values differ"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("lerobot")
    _make_buffer(root / "buffer")
    summary = export_lerobot(root / "buffer", root / "dataset", fps=15.0, task="pick the cube")
    return root, summary


def test_export_writes_v3_info_and_data(exported):
    root, summary = exported
    dataset = root / "dataset"
    episodes = list(iter_episodes(root / "buffer"))
    lengths = [len(e["action"]) for e in episodes]
    assert summary == {"episodes": 5, "frames": sum(lengths), "out_dir": str(dataset), "features": summary["features"]}
    info = json.loads((dataset / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 15
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (5, sum(lengths), 1)
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    features = info["features"]
    assert list(features) == summary["features"]
    names = [f"state_{i}" for i in range(8)]
    assert features["observation.state"] == {"dtype": "float32", "shape": [8], "names": names}
    assert features["observation.images.wrist"]["dtype"] == "image"
    assert features["observation.images.wrist"]["shape"] == [SIDE, SIDE, 3]
    assert features["action"]["shape"] == [ACTION_DIM] and features["next.done"]["dtype"] == "bool"
    for name in ("next.reward", "fleetrl.terminated", "fleetrl.truncated", "fleetrl.policy_version", "fleetrl.robot",
                 "fleetrl.source", "timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert features[name]["shape"] == [1], name
    assert features["fleetrl.source"]["dtype"] == "int8"

    files = sorted((dataset / "data").glob("*/*.parquet"))
    assert files == [dataset / "data/chunk-000/file-000.parquet"]
    table = pq.read_table(files[0])
    assert set(table.column_names) == set(features)  # LeRobot casts data files to exactly these columns
    assert table.schema.field("observation.state").type == pa.list_(pa.float32(), 8)
    image_cell = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    assert table.schema.field("observation.images.wrist").type == image_cell
    png = table["observation.images.wrist"][0].as_py()
    assert png["bytes"].startswith(b"\x89PNG") and png["path"] is None
    assert table["index"].to_pylist() == list(range(sum(lengths)))
    assert table.num_rows == info["total_frames"]
    done = table["next.done"].to_pylist()
    ends = np.cumsum(lengths) - 1
    assert [done[i] for i in ends] == [True, True, True, True, False]  # the last episode never ended
    assert sum(done) == 4
    np.testing.assert_allclose(table["timestamp"].to_numpy()[: lengths[0]], np.arange(lengths[0]) / 15.0, rtol=1e-6)


def test_export_writes_episode_task_and_stats_metadata(exported):
    root, _ = exported
    dataset = root / "dataset"
    episodes = list(iter_episodes(root / "buffer"))
    lengths = [len(e["action"]) for e in episodes]
    table = pq.read_table(dataset / "data/chunk-000/file-000.parquet")
    rows = pq.read_table(dataset / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [row["episode_index"] for row in rows] == list(range(5))
    episode_column = table["episode_index"].to_numpy()
    for row, length in zip(rows, lengths, strict=True):
        assert row["length"] == length == row["dataset_to_index"] - row["dataset_from_index"]
        assert (row["data/chunk_index"], row["data/file_index"]) == (0, 0)
        assert (episode_column == row["episode_index"]).sum() == length
        assert (episode_column[row["dataset_from_index"]: row["dataset_to_index"]] == row["episode_index"]).all()
        assert row["tasks"] == ["pick the cube"]
        assert row["stats/action/count"] == [length]

    tasks = pq.read_table(dataset / "meta/tasks.parquet")
    pandas_meta = json.loads(tasks.schema.metadata[b"pandas"])
    assert tasks["task_index"].to_pylist() == [0]
    assert tasks[pandas_meta["index_columns"][0]].to_pylist() == ["pick the cube"]

    stats = json.loads((dataset / "meta/stats.json").read_text())
    state = np.concatenate([e["obs.state"] for e in episodes]).astype(np.float64)
    np.testing.assert_allclose(stats["observation.state"]["mean"], state.mean(axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(stats["observation.state"]["std"], state.std(axis=0), rtol=1e-9)
    np.testing.assert_array_equal(stats["action"]["max"], np.concatenate([e["action"] for e in episodes]).max(axis=0))
    assert np.shape(stats["observation.images.wrist"]["mean"]) == (3, 1, 1)
    assert stats["next.reward"]["count"] == [sum(lengths)]


def test_round_trip_is_bit_identical(exported, tmp_path):
    root, _ = exported
    summary = import_lerobot(root / "dataset", tmp_path / "buffer")
    assert summary == {"episodes": 5, "frames": 27, "shard": "lerobot-0", "buffer_path": str(tmp_path / "buffer")}
    _assert_same_episodes(list(iter_episodes(root / "buffer")), list(iter_episodes(tmp_path / "buffer")))
    # The next observation that a reset replaced, and each final one, were kept beside the frames.
    stored = pq.read_table(root / "dataset/meta/fleetrl/next_obs.parquet")
    assert stored.num_rows == 5 + 1
    again = import_lerobot(root / "dataset", tmp_path / "buffer")
    assert again["shard"] == "lerobot-1"


def test_round_trip_over_many_data_files(tmp_path, monkeypatch):
    monkeypatch.setattr(lerobot_layout, "DATA_FILE_MB", 0)  # every episode starts a new data file
    _make_buffer(tmp_path / "buffer")
    (tmp_path / "dataset").mkdir()  # an empty folder is a fine target
    export_lerobot(tmp_path / "buffer", tmp_path / "dataset")
    rows = pq.read_table(tmp_path / "dataset/meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [(row["data/chunk_index"], row["data/file_index"]) for row in rows] == [(0, i) for i in range(5)]
    for row in rows:
        path = tmp_path / "dataset/data/chunk-000" / f"file-{row['data/file_index']:03d}.parquet"
        stored = pq.read_table(path, columns=["episode_index"])["episode_index"].to_pylist()
        assert stored == [row["episode_index"]] * row["length"]
    import_lerobot(tmp_path / "dataset", tmp_path / "copy")
    _assert_same_episodes(list(iter_episodes(tmp_path / "buffer")), list(iter_episodes(tmp_path / "copy")))


def test_round_trip_of_vector_observations(tmp_path, make_chunk):
    """A flat "obs" comes back as "obs"; here next_obs is never the following obs, so every next
    observation is stored beside the frames."""
    with ShardWriter(tmp_path / "buffer/shards/a", DurabilityConfig(mode="chunk")) as writer:
        writer.add(make_chunk(1, 20))
        writer.add(make_chunk(21, 9, source=SOURCE_INTERVENTION))
    summary = export_lerobot(tmp_path / "buffer", tmp_path / "dataset")
    assert "observation.state" in summary["features"]
    import_lerobot(tmp_path / "dataset", tmp_path / "copy")
    _assert_same_episodes(list(iter_episodes(tmp_path / "buffer")), list(iter_episodes(tmp_path / "copy")))
    assert pq.read_metadata(tmp_path / "dataset/meta/fleetrl/next_obs.parquet").num_rows == 29


def test_round_trip_of_unusual_layouts(tmp_path):
    """Grey and RGBA images, a 2-D float observation, bool and scalar entries, a scalar action."""
    rng = np.random.default_rng(5)
    n = 7
    obs = {"grey": rng.integers(0, 256, (n + 1, 5, 6, 1), dtype=np.uint8),
           "rgba": rng.integers(0, 256, (n + 1, 4, 4, 4), dtype=np.uint8),
           "depth": rng.normal(size=(n + 1, 3, 2)).astype(np.float32),
           "contact": rng.integers(0, 2, n + 1).astype(bool),
           "phase": rng.normal(size=n + 1).astype(np.float32)}
    chunk = {f"obs.{k}": v[:-1] for k, v in obs.items()} | {f"next_obs.{k}": v[1:] for k, v in obs.items()}
    chunk.update({"action": rng.normal(size=n).astype(np.float32), "reward": np.zeros(n, np.float32),
                  "terminated": np.float32([0] * (n - 1) + [1]), "truncated": np.zeros(n, np.float32),
                  "policy_version": np.arange(n), "robot": np.zeros(n, np.int64),
                  "source": np.full(n, SOURCE_ONLINE, np.int8)})
    with ShardWriter(tmp_path / "buffer/shards/a", DurabilityConfig(mode="chunk")) as writer:
        writer.add(chunk)
    features = json.loads((Path(export_lerobot(tmp_path / "buffer", tmp_path / "ds")["out_dir"]) / "meta/info.json")
                          .read_text())["features"]
    assert features["observation.images.grey"]["shape"] == [5, 6, 1]
    assert features["observation.depth"] == {"dtype": "float32", "shape": [3, 2], "names": None}
    assert features["observation.contact"]["dtype"] == "bool" and features["action"]["shape"] == [1]
    import_lerobot(tmp_path / "ds", tmp_path / "copy")
    _assert_same_episodes(list(iter_episodes(tmp_path / "buffer")), list(iter_episodes(tmp_path / "copy")))


def test_export_refuses_a_used_folder_and_a_non_buffer(exported, tmp_path):
    root, _ = exported
    with pytest.raises(ValueError, match="not an empty folder"):
        export_lerobot(root / "buffer", root / "dataset")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        export_lerobot(tmp_path / "nowhere", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _foreign_frames(lengths, done_at_end):
    """Frames of a dataset LeRobot could have recorded: float64 state, PNG and JPEG cameras."""
    rng = np.random.default_rng(3)
    rows = []
    for episode, (length, done) in enumerate(zip(lengths, done_at_end, strict=True)):
        for t in range(length):
            top = np.full((6, 8, 3), 20 * t + 40 * episode, dtype=np.uint8)
            top[:, :4, 0] = 200
            rows.append({
                "observation.state": rng.normal(size=3).tolist(),
                "observation.images.top": {"bytes": _png(top), "path": None},
                "observation.images.side": {"bytes": _jpeg(np.full((4, 4, 3), 128, np.uint8)), "path": "x.jpg"},
                "action": rng.normal(size=2).astype(np.float32).tolist(),
                "next.reward": float(t),
                "next.done": bool(done and t == length - 1),
                "timestamp": t / 30.0,
                "frame_index": t,
                "episode_index": episode,
                "index": len(rows),
                "task_index": 0,
            })
    return rows


FOREIGN_FEATURES = {
    "observation.state": {"dtype": "float64", "shape": [3], "names": ["x", "y", "z"]},
    "observation.images.top": {"dtype": "image", "shape": [6, 8, 3], "names": ["height", "width", "channel"]},
    "observation.images.side": {"dtype": "image", "shape": [4, 4, 3], "names": ["height", "width", "channel"]},
    "action": {"dtype": "float32", "shape": [2], "names": None},
    "next.reward": {"dtype": "float32", "shape": [1], "names": None},
    "next.done": {"dtype": "bool", "shape": [1], "names": None},
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
FOREIGN_SCHEMA = pa.schema([
    ("observation.state", pa.list_(pa.float64())),
    ("observation.images.top", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("observation.images.side", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("action", pa.list_(pa.float32(), 2)),
    ("next.reward", pa.float32()),
    ("next.done", pa.bool_()),
    ("timestamp", pa.float32()),
    ("frame_index", pa.int64()),
    ("episode_index", pa.int64()),
    ("index", pa.int64()),
    ("task_index", pa.int64()),
])


def _write_foreign(root: Path, version: str = "v3.0", lengths=(3, 4), done_at_end=(True, False)) -> list[dict]:
    rows = _foreign_frames(lengths, done_at_end)
    info = {"codebase_version": version, "robot_type": "so100", "total_episodes": len(lengths),
            "total_frames": len(rows), "total_tasks": 1, "chunks_size": 1000, "fps": 30,
            "splits": {"train": f"0:{len(lengths)}"}, "features": FOREIGN_FEATURES}
    (root / "meta").mkdir(parents=True)
    if version == "v3.0":
        info["data_path"] = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
        (root / "data/chunk-000").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, FOREIGN_SCHEMA), root / "data/chunk-000/file-000.parquet")
        (root / "meta/episodes/chunk-000").mkdir(parents=True)
        starts = np.cumsum([0, *lengths])
        pq.write_table(pa.Table.from_pylist([
            {"episode_index": e, "tasks": ["stack"], "length": n, "data/chunk_index": 0, "data/file_index": 0,
             "dataset_from_index": int(starts[e]), "dataset_to_index": int(starts[e + 1])}
            for e, n in enumerate(lengths)]), root / "meta/episodes/chunk-000/file-000.parquet")
        pq.write_table(pa.table({"task_index": [0], "task": ["stack"]}), root / "meta/tasks.parquet")
    else:
        info["data_path"] = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
        (root / "data/chunk-000").mkdir(parents=True)
        for e in range(len(lengths)):
            part = [row for row in rows if row["episode_index"] == e]
            pq.write_table(pa.Table.from_pylist(part, FOREIGN_SCHEMA), root / f"data/chunk-000/episode_{e:06d}.parquet")
        lines = [json.dumps({"episode_index": e, "tasks": ["stack"], "length": n}) for e, n in enumerate(lengths)]
        (root / "meta/episodes.jsonl").write_text("\n".join(lines) + "\n")
        (root / "meta/tasks.jsonl").write_text(json.dumps({"task_index": 0, "task": "stack"}) + "\n")
    (root / "meta/info.json").write_text(json.dumps(info))
    return rows


@pytest.mark.parametrize("version", ["v3.0", "v2.1"])
def test_import_of_a_foreign_dataset_maps_columns(tmp_path, version):
    rows = _write_foreign(tmp_path / "dataset", version)
    summary = import_lerobot(tmp_path / "dataset", tmp_path / "buffer")
    assert (summary["episodes"], summary["frames"], summary["shard"]) == (2, 7, "lerobot-0")
    episodes = list(iter_episodes(tmp_path / "buffer"))
    assert [len(e["action"]) for e in episodes] == [3, 4]
    first = 0
    for episode, done in zip(episodes, (True, False), strict=True):
        n = len(episode["action"])
        part = rows[first: first + n]
        first += n
        assert sorted(episode) == sorted([
            "obs.state", "obs.top", "obs.side", "next_obs.state", "next_obs.top", "next_obs.side", "action", "reward",
            "terminated", "truncated", "policy_version", "robot", "source", "actor", "success"])
        np.testing.assert_array_equal(episode["obs.state"], np.float32([row["observation.state"] for row in part]))
        assert episode["obs.state"].dtype == np.float32 and episode["action"].dtype == np.float32
        np.testing.assert_array_equal(episode["action"], np.float32([row["action"] for row in part]))
        assert episode["obs.top"].shape == (n, 6, 8, 3) and episode["obs.top"].dtype == np.uint8
        assert (episode["obs.top"][:, :, :4, 0] == 200).all()
        assert np.abs(episode["obs.side"].astype(int) - 128).max() <= 2  # JPEG: close, not exact
        for key in ("state", "top", "side"):
            np.testing.assert_array_equal(episode[f"next_obs.{key}"][:-1], episode[f"obs.{key}"][1:])
            np.testing.assert_array_equal(episode[f"next_obs.{key}"][-1], episode[f"obs.{key}"][-1])
        np.testing.assert_array_equal(episode["reward"], np.arange(n, dtype=np.float32))
        assert episode["terminated"].tolist() == [0.0] * (n - 1) + [float(done)]
        assert episode["truncated"].tolist() == [0.0] * (n - 1) + [float(not done)]
        assert (episode["source"] == SOURCE_DEMO).all() and episode["source"].dtype == np.int8
        assert (episode["policy_version"] == -1).all() and (episode["robot"] == 0).all()


def test_import_without_reward_gives_zero_reward(tmp_path):
    root = tmp_path / "dataset"
    _write_foreign(root)
    info = json.loads((root / "meta/info.json").read_text())
    del info["features"]["next.reward"]
    (root / "meta/info.json").write_text(json.dumps(info))
    import_lerobot(root, tmp_path / "buffer")
    episode = concat_chunks(list(iter_episodes(tmp_path / "buffer")))
    assert episode["reward"].dtype == np.float32 and not episode["reward"].any()


def test_bad_datasets_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        import_lerobot(tmp_path / "missing", tmp_path / "buffer")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="info.json"):
        import_lerobot(tmp_path / "empty", tmp_path / "buffer")
    (tmp_path / "other/meta").mkdir(parents=True)
    (tmp_path / "other/meta/info.json").write_text(json.dumps({"name": "not lerobot"}))
    with pytest.raises(ValueError, match="other/meta/info.json"):
        import_lerobot(tmp_path / "other", tmp_path / "buffer")
    _write_foreign(tmp_path / "future", version="v9.9")
    with pytest.raises(ValueError, match=r"future/meta/info.json.*v9\.9"):
        import_lerobot(tmp_path / "future", tmp_path / "buffer")
    assert not (tmp_path / "buffer").exists()  # nothing was created for any of them


def test_a_failed_import_leaves_no_shard(tmp_path):
    root = tmp_path / "dataset"
    rows = _write_foreign(root, lengths=(3, 4))
    rows[5]["action"] = None  # a hole in episode 1: found after episode 0 was written
    pq.write_table(pa.Table.from_pylist(rows, FOREIGN_SCHEMA), root / "data/chunk-000/file-000.parquet")
    with pytest.raises(ValueError, match="'action' holds nulls"):
        import_lerobot(root, tmp_path / "buffer")
    assert list((tmp_path / "buffer/shards").iterdir()) == []


def test_video_features_need_pyav(tmp_path, monkeypatch):
    root = tmp_path / "dataset"
    _write_foreign(root)
    info = json.loads((root / "meta/info.json").read_text())
    info["features"]["observation.images.cam"] = {"dtype": "video", "shape": [6, 8, 3], "names": None}
    info["video_path"] = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    (root / "meta/info.json").write_text(json.dumps(info))
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` fails, as where it is not installed
    with pytest.raises(ValueError, match=r"observation\.images\.cam.*install av"):
        import_lerobot(root, tmp_path / "buffer")
    assert not (tmp_path / "buffer").exists()


def _write_video(av, path: Path, levels) -> None:
    """An mp4 of flat grey 16x16 frames at 30 fps, one per level."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for level in levels:
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), level, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.mark.parametrize("version", ["v3.0", "v2.1"])
def test_video_features_decode_with_pyav(tmp_path, version):
    av = pytest.importorskip("av")
    root = tmp_path / "dataset"
    _write_foreign(root, version, lengths=(3, 4))
    info = json.loads((root / "meta/info.json").read_text())
    info["features"] = {k: v for k, v in info["features"].items() if not k.startswith("observation.images")}
    info["features"]["observation.images.cam"] = {"dtype": "video", "shape": [16, 16, 3], "names": None}
    levels = [30 * i for i in range(7)]  # one flat grey level per frame
    if version == "v3.0":  # both episodes in one file; the second starts at its from_timestamp
        info["video_path"] = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
        _write_video(av, root / "videos/observation.images.cam/chunk-000/file-000.mp4", levels)
        table = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet")
        table = table.append_column("videos/observation.images.cam/chunk_index", pa.array([0, 0]))
        table = table.append_column("videos/observation.images.cam/file_index", pa.array([0, 0]))
        table = table.append_column("videos/observation.images.cam/from_timestamp", pa.array([0.0, 3 / 30]))
        pq.write_table(table, root / "meta/episodes/chunk-000/file-000.parquet")
    else:  # one file per episode, from 0
        info["video_path"] = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
        for episode, part in enumerate((levels[:3], levels[3:])):
            _write_video(av, root / f"videos/chunk-000/observation.images.cam/episode_{episode:06d}.mp4", part)
    (root / "meta/info.json").write_text(json.dumps(info))
    import_lerobot(root, tmp_path / "buffer")
    cams = [e["obs.cam"] for e in iter_episodes(tmp_path / "buffer")]
    assert [c.shape for c in cams] == [(3, 16, 16, 3), (4, 16, 16, 3)]
    got = [int(np.median(frame)) for frames in cams for frame in frames]
    assert np.abs(np.array(got) - levels).max() <= 6
