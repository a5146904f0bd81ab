"""Frames of a LeRobotDataset as fleetrl chunks: which column gives which chunk key, and how.

    reader = FrameReader(root, info, pq.read_schema(first_data_file))    # checks the mapping
    chunk = reader.chunk(episode_table, episode_index)                    # flat chunk arrays

A dataset fleetrl wrote (meta/fleetrl/info.json) maps back through the chunk keys, dtypes and
shapes recorded there. Any other dataset maps by name: observation.state -> "obs.state",
observation.images.<cam> (or observation.image) -> "obs.<cam>" (uint8 HWC), other
observation.<name> -> "obs.<name>" (dots become underscores), action -> "action" (float32),
next.reward -> "reward"; floating observations become float32.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fleetrl.buffer.formats import lerobot_layout as layout
from fleetrl.buffer.formats.lerobot_columns import column_values, decode_images, is_obs_key
from fleetrl.buffer.formats.lerobot_video import decode_frames, require_av
from fleetrl.core.transitions import ACTOR_HUMAN, SOURCE_DEMO


@dataclass(frozen=True)
class Source:
    """Chunk key `key` read from column `name` of kind "array", "image" or "video"; `shape` is the
    item shape (None: as decoded)."""

    key: str
    name: str
    kind: str
    dtype: np.dtype
    shape: tuple[int, ...] | None


def _read_fleetrl_info(root: Path) -> dict | None:
    path = root / layout.FLEETRL_INFO_PATH
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    if meta.get("format") != layout.FLEETRL_FORMAT or meta.get("version") != layout.FLEETRL_FORMAT_VERSION:
        raise ValueError(f"{path}: not a {layout.FLEETRL_FORMAT} v{layout.FLEETRL_FORMAT_VERSION} description")
    columns, shapes = meta.get("columns"), meta.get("layout")
    if not isinstance(columns, dict) or not isinstance(shapes, dict) or not set(columns) <= set(shapes):
        raise ValueError(f"{path}: needs columns and a layout entry for each of them")
    return meta


def _kind(feature: Mapping) -> str:
    return feature["dtype"] if feature["dtype"] in ("image", "video") else "array"


def _fleetrl_sources(meta: dict, features: Mapping, info_path: Path) -> list[Source]:
    sources = []
    for key, name in meta["columns"].items():
        if name not in features:
            raise ValueError(f"{info_path}: no feature {name!r}, which meta/fleetrl/info.json maps {key!r} to")
        dtype, shape = meta["layout"][key]
        sources.append(Source(key, name, _kind(features[name]), np.dtype(dtype), tuple(shape)))
    return sources


def _foreign_sources(features: Mapping, info_path: Path) -> list[Source]:
    sources, keys = [], {}
    for name, feature in features.items():
        kind = _kind(feature)
        if name.startswith("observation."):
            rest = name[len("observation."):]
            if kind != "array" and rest.startswith("images."):
                rest = rest[len("images."):]
            key = "obs." + rest.replace(".", "_")
            if key in keys:
                raise ValueError(f"{info_path}: features {keys[key]!r} and {name!r} would both be {key!r}")
            keys[key] = name
            if kind != "array":
                sources.append(Source(key, name, kind, np.dtype(np.uint8), None))
                continue
            dtype = np.dtype(feature["dtype"])
            dtype = np.dtype(np.float32) if np.issubdtype(dtype, np.floating) else dtype
            sources.append(Source(key, name, kind, dtype, tuple(feature["shape"])))
        elif name == "action":
            sources.append(Source("action", name, kind, np.dtype(np.float32), tuple(feature["shape"])))
        elif name == "next.reward":
            sources.append(Source("reward", name, kind, np.dtype(np.float32), ()))
    if not any(is_obs_key(s.key) for s in sources):
        raise ValueError(f"{info_path}: no observation.* feature to read observations from")
    if not any(s.key == "action" for s in sources):
        raise ValueError(f"{info_path}: no action feature")
    return sources


class FrameReader:
    """Maps the columns of the dataset at `root` (meta/info.json `info`, data schema `schema`) to
    chunk keys. ValueError naming the file when a needed column is missing."""

    def __init__(self, root: Path, info: Mapping, schema: pa.Schema) -> None:
        self.root, self.info, self.fps = Path(root), info, float(info["fps"])
        info_path = self.root / layout.INFO_PATH
        meta = _read_fleetrl_info(self.root)
        self.foreign = meta is None
        self.sources = _foreign_sources(info["features"], info_path) if self.foreign else \
            _fleetrl_sources(meta, info["features"], info_path)
        videos = [s for s in self.sources if s.kind == "video"]
        if videos:
            require_av(videos[0].name)
        extra = ["episode_index", "frame_index"]
        if videos and "timestamp" in schema.names:  # else frame_index / fps
            extra.append("timestamp")
        if self.foreign and "next.done" in info["features"]:
            extra.append("next.done")
        self.columns = list(dict.fromkeys([*[s.name for s in self.sources if s.kind != "video"], *extra]))
        missing = [name for name in self.columns if name not in schema.names]
        if missing:
            raise ValueError(f"{self.root / 'data'}: data files lack columns {missing}")
        self.episodes = layout.read_episodes(self.root, info) if videos else {}
        self._next_obs = self._load_next_obs() if not self.foreign else {}

    def _load_next_obs(self) -> dict[int, pa.Table]:
        """Stored next observations by episode_index (rows sorted by frame_index)."""
        path = self.root / layout.FLEETRL_NEXT_OBS_PATH
        if not path.is_file():
            return {}
        table = pq.read_table(path).sort_by([("episode_index", "ascending"), ("frame_index", "ascending")])
        episode = table["episode_index"].to_numpy()
        bounds = [0, *(np.flatnonzero(np.diff(episode)) + 1), len(episode)]
        return {int(episode[a]): table.slice(a, b - a) for a, b in itertools.pairwise(bounds) if b > a}

    def _values(self, source: Source, table: pa.Table, episode_index: int) -> np.ndarray:
        n = table.num_rows
        if source.kind == "image":
            values = decode_images(table[source.name], source.name, self.root)
        elif source.kind == "video":
            values = self._video_frames(source, table, episode_index)
        else:
            values = column_values(table[source.name], source.name)
        if source.shape is not None:
            if values.size != n * int(np.prod(source.shape, dtype=np.int64)):
                raise ValueError(f"column {source.name!r}: items of shape {values.shape[1:]}, expected {source.shape}")
            values = values.reshape(n, *source.shape)
        return values.astype(source.dtype, copy=False)

    def _video_frames(self, source: Source, table: pa.Table, episode_index: int) -> np.ndarray:
        path, start = layout.video_location(self.root, self.info, self.episodes.get(episode_index), source.name,
                                            episode_index)
        if "timestamp" in table.column_names:
            times = column_values(table["timestamp"], "timestamp").reshape(-1).astype(np.float64)
        else:
            times = column_values(table["frame_index"], "frame_index").reshape(-1) / self.fps
        return decode_frames(path, start + times, self.fps, source.name)

    def chunk(self, table: pa.Table, episode_index: int) -> dict[str, np.ndarray]:
        """Flat chunk arrays of one episode's frames (`table`, sorted by frame_index)."""
        n = table.num_rows
        chunk = {s.key: self._values(s, table, episode_index) for s in self.sources}
        obs_sources = [s for s in self.sources if is_obs_key(s.key)]
        for source in obs_sources:
            obs = chunk[source.key]
            chunk["next_" + source.key] = np.concatenate([obs[1:], obs[-1:]])
        stored = self._next_obs.get(episode_index)
        if stored is not None and stored.num_rows:
            frames = column_values(table["frame_index"], "frame_index").reshape(-1)
            rows = np.searchsorted(frames, stored["frame_index"].to_numpy())
            if (rows >= n).any() or (frames[np.minimum(rows, n - 1)] != stored["frame_index"].to_numpy()).any():
                raise ValueError(f"{self.root / layout.FLEETRL_NEXT_OBS_PATH}: episode {episode_index} names "
                                 "frames the data files do not hold")
            for source in obs_sources:
                chunk["next_" + source.key][rows] = self._values(source, stored, episode_index)
        if self.foreign:
            chunk.update(self._foreign_fields(table, chunk))
        return chunk

    def _foreign_fields(self, table: pa.Table, chunk: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = table.num_rows
        done = np.zeros(n, dtype=bool)
        if "next.done" in table.column_names:
            done = column_values(table["next.done"], "next.done").reshape(n).astype(bool)
        truncated = np.zeros(n, dtype=np.float32)
        truncated[-1] = 0.0 if done[-1] else 1.0
        fields = {
            "terminated": done.astype(np.float32),
            "truncated": truncated,
            "policy_version": np.full(n, -1, dtype=np.int64),
            "robot": np.zeros(n, dtype=np.int64),
            "source": np.full(n, SOURCE_DEMO, dtype=np.int8),
            "actor": np.full(n, ACTOR_HUMAN, dtype=np.int8),  # LeRobot datasets are teleoperated
            "success": np.zeros(n, dtype=np.float32),
        }
        if "reward" not in chunk:
            fields["reward"] = np.zeros(n, dtype=np.float32)
        return fields
