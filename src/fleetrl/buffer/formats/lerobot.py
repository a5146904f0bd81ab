"""LeRobotDataset export and import: every episode of a buffer as a LeRobotDataset v3.0, and back.

    summary = export_lerobot(Path("runs/x/buffer"), Path("datasets/pick"), fps=10)
    summary = import_lerobot(Path("datasets/pick"), Path("runs/y/buffer"))   # adds shard lerobot-<k>

Column mapping: see `lerobot_columns`; file layout: see `lerobot_layout`. A LeRobot frame holds the
observation before its step, so next_obs[t] is frame t+1's observation. The next observations
that are not (the last step of each episode, and any step where the two differ, e.g. a reset inside
an episode) are kept in meta/fleetrl/next_obs.parquet, keyed by episode and frame; with the chunk
keys, dtypes and shapes in meta/fleetrl/info.json, import gives back every array bit for bit.

A dataset fleetrl did not write imports as demonstrations: source=SOURCE_DEMO, policy_version=-1,
robot=0, reward from next.reward (0 without it), terminated from next.done, and the last frame of
each episode truncated unless it is terminated; the last frame's next observation is its own.
Only pyarrow and pillow are used; "video" features also need PyAV (`lerobot_video`).
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fleetrl.buffer.formats import lerobot_layout as layout
from fleetrl.buffer.formats.lerobot_columns import FLEETRL_PREFIX, Column, is_obs_key, plan_columns
from fleetrl.buffer.formats.lerobot_reader import FrameReader
from fleetrl.buffer.scan import iter_episodes
from fleetrl.buffer.shard_layout import SHARDS_DIR, find_shards, is_shard
from fleetrl.buffer.shard_writer import ShardWriter, chunk_layout
from fleetrl.core.transitions import chunk_len

log = logging.getLogger(__name__)

VIDEO_FILE_MB = 200  # declared in info.json as LeRobot does; fleetrl writes no video
_DONE_FEATURE = {"dtype": "bool", "shape": [1], "names": None}


class _DataFiles:
    """Appends episode tables (one row group each) to data/chunk-XXX/file-YYY.parquet, starting the
    next file once one holds DATA_FILE_MB; an episode never spans two files."""

    def __init__(self, root: Path) -> None:
        self.root, self.number, self.bytes = root, -1, 0
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> dict[str, int]:
        """Append `table`; returns the {"chunk_index", "file_index"} of the file it went to."""
        if self.writer is None or self.bytes >= layout.DATA_FILE_MB << 20:
            self.close()
            self.number += 1
            path = self.root / layout.DATA_PATH.format(**layout.file_location(self.number))
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writer, self.bytes = pq.ParquetWriter(path, table.schema), 0
        self.writer.write_table(table)
        self.bytes += table.nbytes
        return layout.file_location(self.number)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _bytes_differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: do rows of `a` and `b` differ in any bit (so -0.0 != 0.0 and equal NaNs match)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return (a.reshape(len(a), -1).view(np.uint8) != b.reshape(len(b), -1).view(np.uint8)).any(axis=1)


def _stored_next_rows(episode: dict[str, np.ndarray], obs_columns: list[Column]) -> np.ndarray:
    """Steps whose next observation is not the following step's observation: always the last."""
    n = chunk_len(episode)
    stored = np.zeros(n, dtype=bool)
    stored[-1] = True
    if n > 1:
        for column in obs_columns:
            stored[:-1] |= _bytes_differ(episode["next_" + column.key][:-1], episode[column.key][1:])
    return np.flatnonzero(stored)


def _split(columns: list[Column]) -> tuple[list[Column], list[Column]]:
    """(LeRobot's columns: observations, action, next.reward; fleetrl's columns), as info.json lists them."""
    ours = [c.name.startswith(FLEETRL_PREFIX) for c in columns]
    return [c for c, o in zip(columns, ours) if not o], [c for c, o in zip(columns, ours) if o]


def _features(columns: list[Column]) -> dict[str, dict]:
    lerobots, ours = _split(columns)
    features = {c.name: c.feature() for c in lerobots}
    features["next.done"] = dict(_DONE_FEATURE)
    features.update({c.name: c.feature() for c in ours})
    for name, dtype in layout.INDEX_FEATURES.items():
        features[name] = {"dtype": dtype, "shape": [1], "names": None}
    return features


def _frame_values(episode: dict[str, np.ndarray], columns: list[Column], fps: float, episode_index: int,
                  first_index: int) -> dict[str, np.ndarray]:
    """The values of every data column for one episode, in info.json order."""
    n = chunk_len(episode)
    ends = np.asarray(episode["terminated"]) > 0
    if "truncated" in episode:
        ends = ends | (np.asarray(episode["truncated"]) > 0)
    frame_index = np.arange(n, dtype=np.int64)
    lerobots, ours = _split(columns)
    values = {c.name: episode[c.key] for c in lerobots}
    values["next.done"] = ends
    values.update({c.name: episode[c.key] for c in ours})
    values.update({
        "timestamp": (frame_index / fps).astype(np.float32),
        "frame_index": frame_index,
        "episode_index": np.full(n, episode_index, dtype=np.int64),
        "index": first_index + frame_index,
        "task_index": np.zeros(n, dtype=np.int64),
    })
    return values


class _DatasetWriter:
    """Writes episodes one at a time into the empty folder `root`, then the metadata of them all."""

    def __init__(self, source: Path, root: Path, fps: float, task: str) -> None:
        self.source, self.root, self.fps, self.task = source, root, fps, task
        self.columns: list[Column] = []
        self.layout: dict | None = None  # chunk_layout of the first episode; every episode must share it
        self.data = _DataFiles(root)
        self.next_obs: pq.ParquetWriter | None = None
        self.totals: dict[str, layout.Moments] = {}
        self.episodes: list[dict] = []
        self.frames = 0

    def add(self, episode: dict[str, np.ndarray]) -> None:
        index, n = len(self.episodes), chunk_len(episode)
        if self.layout is None:
            self.columns, self.layout = plan_columns(episode), chunk_layout(episode)
        elif chunk_layout(episode) != self.layout:
            raise ValueError(f"{self.source}: episode {index} has layout {chunk_layout(episode)}, episode 0 has "
                             f"{self.layout}; a dataset holds one layout")
        by_name = {c.name: c for c in self.columns}
        values = _frame_values(episode, self.columns, self.fps, index, self.frames)
        table = pa.table({name: by_name[name].to_arrow(v) if name in by_name else pa.array(v)
                          for name, v in values.items()})
        location = self.data.write(table)
        self._add_next_obs(episode, index)
        row = {"episode_index": index, "tasks": [self.task], "length": n,
               "data/chunk_index": location["chunk_index"], "data/file_index": location["file_index"],
               "dataset_from_index": self.frames, "dataset_to_index": self.frames + n,
               "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
        for name, v in values.items():
            image = name in by_name and by_name[name].image
            moments = layout.Moments.of(v, image)
            self.totals[name] = self.totals[name].merge(moments) if name in self.totals else moments
            row.update({f"stats/{name}/{stat}": value for stat, value in moments.to_json(image).items()})
        self.episodes.append(row)
        self.frames += n

    def _add_next_obs(self, episode: dict[str, np.ndarray], index: int) -> None:
        obs_columns = [c for c in self.columns if is_obs_key(c.key)]
        rows = _stored_next_rows(episode, obs_columns)
        table = pa.table({
            "episode_index": pa.array(np.full(len(rows), index, dtype=np.int64)),
            "frame_index": pa.array(rows.astype(np.int64)),
            **{c.name: c.to_arrow(episode["next_" + c.key][rows]) for c in obs_columns},
        })
        if self.next_obs is None:
            path = self.root / layout.FLEETRL_NEXT_OBS_PATH
            path.parent.mkdir(parents=True, exist_ok=True)
            self.next_obs = pq.ParquetWriter(path, table.schema)
        self.next_obs.write_table(table)

    def close(self) -> None:
        self.data.close()
        if self.next_obs is not None:
            self.next_obs.close()

    def write_metadata(self) -> list[str]:
        """Write meta/ (info, stats, tasks, episodes, fleetrl); returns the feature names."""
        features = _features(self.columns)
        images = {c.name for c in self.columns if c.image}
        info = {
            "codebase_version": layout.CODEBASE_VERSION,
            "robot_type": None,
            "total_episodes": len(self.episodes),
            "total_frames": self.frames,
            "total_tasks": 1,
            "chunks_size": layout.CHUNKS_SIZE,
            "data_files_size_in_mb": layout.DATA_FILE_MB,
            "video_files_size_in_mb": VIDEO_FILE_MB,
            "fps": int(self.fps) if float(self.fps).is_integer() else self.fps,
            "splits": {"train": f"0:{len(self.episodes)}"},
            "data_path": layout.DATA_PATH,
            "video_path": None,
            "features": features,
        }
        layout.write_json(self.root / layout.INFO_PATH, info)
        stats = {name: m.to_json(name in images) for name, m in self.totals.items()}
        layout.write_json(self.root / layout.STATS_PATH, stats)
        layout.write_tasks(self.root, [self.task])
        layout.write_episodes(self.root, self.episodes)
        layout.write_json(self.root / layout.FLEETRL_INFO_PATH, {
            "format": layout.FLEETRL_FORMAT,
            "version": layout.FLEETRL_FORMAT_VERSION,
            "columns": {c.key: c.name for c in self.columns},
            "layout": self.layout,
        })
        return list(features)


def export_lerobot(buffer_path: Path, out_dir: Path, fps: float = 10.0, task: str = "fleetrl task") -> dict:
    """Write every episode of the buffer at `buffer_path` (`scan.iter_episodes`) as a LeRobotDataset
    v3.0 in `out_dir`, which must not exist or be empty; frame t of an episode is at t / `fps` s,
    and every episode gets the one task `task`.

    The dataset is written beside `out_dir` and renamed into place, so a failed export leaves
    nothing. Returns {"episodes", "frames", "out_dir", "features": [column names]}.
    FileNotFoundError when `buffer_path` is not a buffer; ValueError when it holds no transitions.
    """
    buffer_path, out_dir = Path(buffer_path), Path(out_dir)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    find_shards(buffer_path)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir}: exists and is not an empty folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".partial"))
    try:
        writer = _DatasetWriter(buffer_path, tmp, fps, task)
        try:
            for episode in iter_episodes(buffer_path):
                writer.add(episode)
        finally:
            writer.close()
        if not writer.episodes:
            raise ValueError(f"{buffer_path}: the buffer holds no transitions to export")
        features = writer.write_metadata()
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"episodes": len(writer.episodes), "frames": writer.frames, "out_dir": str(out_dir), "features": features}


def _claim_shard(buffer_path: Path) -> Path:
    """Create and return shards/lerobot-<k> of `buffer_path`, k the first free integer."""
    if is_shard(buffer_path):
        raise ValueError(f"{buffer_path}: is a shard folder; import into the buffer root that holds {SHARDS_DIR}/")
    shards = buffer_path / SHARDS_DIR
    shards.mkdir(parents=True, exist_ok=True)
    for k in itertools.count():
        try:
            (shards / f"lerobot-{k}").mkdir()
        except FileExistsError:
            continue
        return shards / f"lerobot-{k}"
    raise AssertionError("unreachable")


def _episode_tables(files: list[Path], columns: list[str]) -> Iterator[tuple[int, pa.Table]]:
    """(episode_index, its rows by frame_index) of the data files, in file order. Rows of one
    episode are grouped even where a file holds them out of order or the next file continues them."""
    pending: tuple[int, list[pa.Table]] | None = None
    for path in files:
        table = pq.read_table(path, columns=columns)
        if table.num_rows == 0:
            continue
        episode = table["episode_index"].to_numpy()
        order = np.lexsort((table["frame_index"].to_numpy(), episode))
        if (np.diff(order) != 1).any():
            table, episode = table.take(order), episode[order]
        bounds = [0, *(np.flatnonzero(np.diff(episode)) + 1), len(episode)]
        for start, stop in itertools.pairwise(bounds):
            index, part = int(episode[start]), table.slice(start, stop - start)
            if pending is not None and pending[0] == index:
                pending[1].append(part)
                continue
            if pending is not None:
                yield pending[0], pa.concat_tables(pending[1])
            pending = (index, [part])
    if pending is not None:
        yield pending[0], pa.concat_tables(pending[1])


def import_lerobot(dataset_dir: Path, buffer_path: Path) -> dict:
    """Write the frames of the LeRobotDataset (v3.0 or v2.x) at `dataset_dir` into a new shard
    lerobot-<k> (k the first free integer) of the buffer root `buffer_path`, one chunk per episode.

    Returns {"episodes", "frames", "shard", "buffer_path"}. FileNotFoundError naming a missing
    folder, meta/info.json or data files; ValueError naming the file for a dataset this reader
    cannot map (unknown codebase_version, no observation or action, a video feature without PyAV).
    A failed import removes the shard it created.
    """
    dataset_dir, buffer_path = Path(dataset_dir), Path(buffer_path)
    if not dataset_dir.is_dir():
        raise FileNotFoundError(f"{dataset_dir}: no such dataset folder")
    info = layout.read_info(dataset_dir)
    files = layout.data_files(dataset_dir)
    reader = FrameReader(dataset_dir, info, pq.read_schema(files[0]))
    total = sum(pq.read_metadata(path).num_rows for path in files)
    if "total_frames" in info and int(info["total_frames"]) != total:
        raise ValueError(f"{dataset_dir / layout.INFO_PATH}: total_frames is {info['total_frames']} "
                         f"but the data files hold {total} frames")
    shard = _claim_shard(buffer_path)
    episodes = frames = 0
    try:
        writer = ShardWriter(shard)  # group commits
        try:
            for episode_index, table in _episode_tables(files, reader.columns):
                chunk = reader.chunk(table, episode_index)
                writer.add(chunk)
                episodes, frames = episodes + 1, frames + table.num_rows
        finally:
            writer.close()
    except BaseException:
        shutil.rmtree(shard, ignore_errors=True)
        raise
    log.info("imported %d episodes (%d frames) of %s into %s", episodes, frames, dataset_dir, shard)
    return {"episodes": episodes, "frames": frames, "shard": shard.name, "buffer_path": str(buffer_path)}
