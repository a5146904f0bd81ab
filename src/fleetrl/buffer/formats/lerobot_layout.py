"""Where a LeRobotDataset keeps its files and metadata: written as v3.0, read as v3.0 or v2.x.

    <dataset>/
        meta/info.json                            codebase_version, fps, totals, path templates, features
        meta/stats.json                           min, max, mean, std and count of every numeric feature
        meta/tasks.parquet                        task strings (the pandas index) and their task_index
        meta/episodes/chunk-000/file-000.parquet  one row per episode: length, tasks, data file and rows
        data/chunk-XXX/file-YYY.parquet           the frames of many episodes, one row group per episode
        videos/<key>/chunk-XXX/file-YYY.mp4       frames of "video" features (fleetrl writes "image" ones)
        meta/fleetrl/info.json                    fleetrl only: chunk keys, dtypes and shapes
        meta/fleetrl/next_obs.parquet             fleetrl only: next observations the next frame does not give

v2.x differs: meta/episodes.jsonl and meta/tasks.jsonl, and one data file (and one video per camera)
per episode at paths made from `episode_chunk` (episode_index // chunks_size) and `episode_index`.

LeRobot loads data/*/*.parquet with exactly the columns info.json declares (any other column fails
its cast), so every column fleetrl adds is declared there too; LeRobot never opens meta/fleetrl/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CODEBASE_VERSION = "v3.0"
READABLE_VERSIONS = ("v2.0", "v2.1", "v3.0")
CHUNKS_SIZE = 1000  # files per chunk-XXX folder
DATA_FILE_MB = 100  # a data file is closed once it holds this much (one episode never spans two)

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
LEGACY_EPISODES_PATH = "meta/episodes.jsonl"
FLEETRL_INFO_PATH = "meta/fleetrl/info.json"
FLEETRL_NEXT_OBS_PATH = "meta/fleetrl/next_obs.parquet"
FLEETRL_FORMAT = "fleetrl-lerobot"
FLEETRL_FORMAT_VERSION = 1

# The columns LeRobot adds to every frame (info.json declares them like any feature).
INDEX_FEATURES: dict[str, str] = {
    "timestamp": "float32",
    "frame_index": "int64",
    "episode_index": "int64",
    "index": "int64",
    "task_index": "int64",
}


def file_location(number: int, chunks_size: int = CHUNKS_SIZE) -> dict[str, int]:
    """{"chunk_index", "file_index"} of the `number`-th file (0-based) of a chunked folder."""
    return {"chunk_index": number // chunks_size, "file_index": number % chunks_size}


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4) + "\n")


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (not a LeRobot dataset?)")
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None


def read_info(root: Path) -> dict:
    """meta/info.json of the dataset at `root`, checked: FileNotFoundError when it is missing,
    ValueError naming it when it is not a LeRobot dataset's or its codebase_version is unknown."""
    path = Path(root) / INFO_PATH
    info = _load_json(path)
    if not isinstance(info, dict) or "codebase_version" not in info or not isinstance(info.get("features"), dict):
        raise ValueError(f"{path}: not a LeRobotDataset info.json (needs codebase_version and features)")
    version = info["codebase_version"]
    if version not in READABLE_VERSIONS:
        raise ValueError(f"{path}: codebase_version {version!r} is not one this reader knows {READABLE_VERSIONS}")
    if "data_path" not in info:
        raise ValueError(f"{path}: no data_path")
    if not isinstance(info.get("fps"), (int, float)) or not info["fps"] > 0:
        raise ValueError(f"{path}: fps must be a positive number, got {info.get('fps')!r}")
    for name, feature in info["features"].items():
        if not isinstance(feature, dict) or "dtype" not in feature or "shape" not in feature:
            raise ValueError(f"{path}: feature {name!r} lacks dtype or shape")
    return info


def data_files(root: Path) -> list[Path]:
    """The data parquet files, in the order LeRobot concatenates them. FileNotFoundError if none."""
    files = sorted((Path(root) / "data").glob("*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"{Path(root) / 'data'}: no */*.parquet data files")
    return files


def read_episodes(root: Path, info: Mapping) -> dict[int, dict]:
    """Episode metadata rows by episode_index: meta/episodes/*/*.parquet (v3.0) or meta/episodes.jsonl
    (v2.x). Empty when the dataset has none (the data files alone are enough without videos)."""
    root = Path(root)
    if info["codebase_version"] == CODEBASE_VERSION:
        files = sorted((root / "meta" / "episodes").glob("*/*.parquet"))
        rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    else:
        path = root / LEGACY_EPISODES_PATH
        lines = path.read_text().splitlines() if path.is_file() else []
        try:
            rows = [json.loads(line) for line in lines if line.strip()]
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON lines: {err}") from None
    return {int(row["episode_index"]): row for row in rows if "episode_index" in row}


def video_location(
    root: Path, info: Mapping, episode: Mapping | None, key: str, episode_index: int
) -> tuple[Path, float]:
    """(mp4 file, time of the episode's first frame in it) of video feature `key`."""
    template = info.get("video_path")
    if not template:
        raise ValueError(f"{Path(root) / INFO_PATH}: feature {key!r} is a video but there is no video_path")
    if info["codebase_version"] != CODEBASE_VERSION:  # v2.x: one video per episode, starting at 0
        chunk = episode_index // int(info.get("chunks_size", CHUNKS_SIZE))
        return Path(root) / template.format(episode_chunk=chunk, video_key=key, episode_index=episode_index), 0.0
    prefix = f"videos/{key}/"
    if episode is None or prefix + "chunk_index" not in episode:
        raise ValueError(f"{Path(root) / 'meta/episodes'}: episode {episode_index} has no {prefix}chunk_index")
    path = template.format(
        video_key=key, chunk_index=int(episode[prefix + "chunk_index"]), file_index=int(episode[prefix + "file_index"])
    )
    return Path(root) / path, float(episode.get(prefix + "from_timestamp") or 0.0)


def _pandas_metadata(index_column: str, columns: Sequence[tuple[str, str]]) -> bytes:
    """The schema metadata pandas reads to make `index_column` the index again (its documented
    "pandas" key), so LeRobot's pd.read_parquet finds task strings in the index, as it writes them."""
    entries = [
        {"name": name, "field_name": name, "pandas_type": kind, "numpy_type": "object" if kind == "unicode" else kind,
         "metadata": None}
        for name, kind in columns
    ]
    entries.append({"name": None, "field_name": index_column, "pandas_type": "unicode", "numpy_type": "object",
                    "metadata": None})
    return json.dumps({
        "index_columns": [index_column],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": entries,
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }).encode()


def write_tasks(root: Path, tasks: Sequence[str]) -> None:
    """meta/tasks.parquet: column task_index, and the task strings as the (unnamed) pandas index."""
    index_column = "__index_level_0__"
    table = pa.table({
        "task_index": pa.array(range(len(tasks)), pa.int64()),
        index_column: pa.array(tasks, pa.string()),
    })
    table = table.replace_schema_metadata({b"pandas": _pandas_metadata(index_column, [("task_index", "int64")])})
    path = Path(root) / TASKS_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def write_episodes(root: Path, rows: Sequence[Mapping]) -> None:
    """meta/episodes/chunk-000/file-000.parquet, one row per episode (rows share their keys)."""
    path = Path(root) / EPISODES_PATH.format(chunk_index=0, file_index=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(rows)), path)


@dataclass
class Moments:
    """Running min, max, mean and variance (Chan et al.'s pairwise merge) of one feature.

    Vectors reduce over frames, giving item-shaped statistics; images reduce over frames and pixels,
    giving one value per channel, in [0, 1] and shaped (C, 1, 1) as LeRobot normalises images.
    """

    frames: int
    samples: int  # values behind each statistic: frames, or frames * H * W for images
    mean: np.ndarray
    m2: np.ndarray  # sum of squared deviations from the mean
    min: np.ndarray
    max: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, image: bool) -> Moments:
        values = np.asarray(values, dtype=np.float64)
        frames = len(values)
        if image:  # (N, H, W, C) -> per channel, scaled to [0, 1]
            values = values.reshape(-1, values.shape[-1]) / 255.0
        mean = values.mean(axis=0)
        return cls(frames, len(values), mean, ((values - mean) ** 2).sum(axis=0), values.min(axis=0),
                   values.max(axis=0))

    def merge(self, other: Moments) -> Moments:
        n = self.samples + other.samples
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.samples / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.samples * other.samples / n)
        return Moments(self.frames + other.frames, n, mean, m2, np.minimum(self.min, other.min),
                       np.maximum(self.max, other.max))

    def to_json(self, image: bool) -> dict[str, list]:
        """{"min", "max", "mean", "std", "count"} as lists (count: frames)."""
        stats = {"min": self.min, "max": self.max, "mean": self.mean, "std": np.sqrt(self.m2 / self.samples)}
        shape = (-1, 1, 1) if image else np.shape(self.mean)
        out = {name: np.asarray(value).reshape(shape).tolist() for name, value in stats.items()}
        if not image and np.ndim(self.mean) == 0:  # scalar columns: LeRobot keeps shape (1,)
            out = {name: [value] for name, value in out.items()}
        out["count"] = [int(self.frames)]
        return out
