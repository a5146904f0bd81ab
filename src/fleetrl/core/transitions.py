"""The chunk: how transitions travel from an env worker to a buffer, and how they are stored.

A chunk is a flat dict of numpy arrays with a common leading length N (see `core.Buffer`):

    "obs"               (N, D) float32             a vector observation, or, for dict observations,
    "obs.<name>"        (N, ...) one per entry     e.g. "obs.state" (N, 8) float32,
                                                   "obs.wrist" (N, 128, 128, 3) uint8
    "next_obs", "next_obs.<name>"                  the same for the observation after the step
    "action"            (N, A) float32 in [-1, 1]
    "reward"            (N,) float32
    "terminated"        (N,) float32  1.0 only at a true terminal state
    "truncated"         (N,) float32  1.0 where a time limit (or an abort) ended the episode
    "policy_version"    (N,) int64    weights version that chose the action (-1: not a policy)
    "robot"             (N,) int64    index of the robot (env worker) that acted
    "source"            (N,) int8     SOURCE_ONLINE, SOURCE_DEMO or SOURCE_INTERVENTION (the stream)
    "actor"             (N,) int8     who chose the action: ACTOR_POLICY, ACTOR_HUMAN, ACTOR_EXPERT
    "success"           (N,) float32  1.0 where the step's resulting state passes the task's success
                                      test (info["success"]): labelled frames for reward models

Flat keys keep a chunk a plain mapping of arrays (an .npz file, a Ray object, a row of columns);
`unflatten` turns "obs.<name>" keys back into the nested dict an Algorithm takes. Images stay
uint8 all the way to the learner; floating observations are stored as float32.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where spaces are read, so the storage layer loads without gymnasium
    import gymnasium as gym

SOURCE_ONLINE = 0
SOURCE_DEMO = 1
SOURCE_INTERVENTION = 2

ACTOR_POLICY = 0  # the policy (or random exploration before the first weights)
ACTOR_HUMAN = 1  # a person at a teleop device
ACTOR_EXPERT = 2  # a scripted expert reading the true task state

OBS_PREFIXES = ("obs", "next_obs")
FIELD_DTYPES: dict[str, type] = {
    "action": np.float32,
    "reward": np.float32,
    "terminated": np.float32,
    "truncated": np.float32,
    "policy_version": np.int64,
    "robot": np.int64,
    "source": np.int8,
    "actor": np.int8,
    "success": np.float32,
}
# Fields added after the first buffers were written: `with_default_fields` fills them in.
OPTIONAL_FIELDS = ("actor", "success")
REQUIRED_FIELDS = ("action", "reward", "terminated", "policy_version", "robot", "source")


def _storage_dtype(dtype: np.dtype) -> np.dtype:
    """Floating observations travel as float32; everything else (uint8 images) as it is."""
    return np.dtype(np.float32) if np.issubdtype(dtype, np.floating) else np.dtype(dtype)


def flatten_obs(obs, prefix: str = "obs") -> dict[str, np.ndarray]:
    """One observation (or a batch) as flat chunk keys: {prefix: array} or {prefix.name: array}."""
    if isinstance(obs, Mapping):
        out = {}
        for name, value in obs.items():
            if "." in name or isinstance(value, Mapping):
                raise ValueError(f"observation key {name!r}: nested dicts and dotted names are not supported")
            out[f"{prefix}.{name}"] = np.asarray(value)
        return out
    return {prefix: np.asarray(obs)}


def unflatten_obs(flat: Mapping[str, np.ndarray], prefix: str = "obs"):
    """The observation stored under `prefix` in `flat`: an array, or a dict of arrays."""
    if prefix in flat:
        return flat[prefix]
    head = prefix + "."
    entries = {key[len(head):]: value for key, value in flat.items() if key.startswith(head)}
    if not entries:
        raise KeyError(f"no {prefix!r} or {head}<name> keys in chunk (keys: {sorted(flat)})")
    return entries


def unflatten(flat: Mapping[str, np.ndarray]) -> dict:
    """A flat chunk or batch with "obs" and "next_obs" nested back (a dict for dict observations)."""
    out: dict = {}
    for key, value in flat.items():
        prefix = key.partition(".")[0]
        if prefix not in OBS_PREFIXES:
            out[key] = value
    for prefix in OBS_PREFIXES:
        out[prefix] = unflatten_obs(flat, prefix)
    return out


def with_default_fields(chunk: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`chunk` with the optional fields it lacks: actor (the expert for demonstration and
    intervention steps, else the policy) and success (0: unknown, counted as not successful)."""
    out = dict(chunk)
    n = chunk_len(chunk)
    if "actor" not in out:
        source = np.asarray(out["source"])
        out["actor"] = np.where(source == SOURCE_ONLINE, ACTOR_POLICY, ACTOR_EXPERT).astype(np.int8)
    if "success" not in out:
        out["success"] = np.zeros(n, dtype=np.float32)
    return out


def chunk_len(chunk: Mapping[str, np.ndarray]) -> int:
    """N, the common leading length of a chunk's arrays. ValueError if they disagree or are missing."""
    missing = [key for key in REQUIRED_FIELDS if key not in chunk]
    for prefix in OBS_PREFIXES:
        if prefix not in chunk and not any(key.startswith(prefix + ".") for key in chunk):
            missing.append(prefix)
    if missing:
        raise ValueError(f"chunk lacks {missing} (keys: {sorted(chunk)})")
    lengths = {key: np.shape(value)[0] if np.ndim(value) else None for key, value in chunk.items()}
    distinct = set(lengths.values())
    if len(distinct) != 1 or None in distinct:
        raise ValueError(f"chunk arrays must share a leading length, got {lengths}")
    return int(distinct.pop())


def concat_chunks(chunks: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One chunk holding `chunks` in order. They must have the same keys."""
    if not chunks:
        raise ValueError("concat_chunks needs at least one chunk")
    keys = set(chunks[0])
    for i, chunk in enumerate(chunks[1:], start=1):
        if set(chunk) != keys:
            raise ValueError(f"chunk {i} has keys {sorted(chunk)}, chunk 0 has {sorted(keys)}")
    return {key: np.concatenate([np.asarray(chunk[key]) for chunk in chunks]) for key in chunks[0]}


def _obs_layout(space: gym.spaces.Space) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and storage dtype of each flat observation key of one observation from `space`."""
    import gymnasium as gym

    if isinstance(space, gym.spaces.Dict):
        layout = {}
        for name, sub in space.spaces.items():
            if not isinstance(sub, gym.spaces.Box):
                raise ValueError(f"observation entry {name!r}: only Box entries are supported, got {sub}")
            layout[f"obs.{name}"] = (tuple(sub.shape), _storage_dtype(sub.dtype))
        return layout
    if isinstance(space, gym.spaces.Box):
        return {"obs": (tuple(space.shape), _storage_dtype(space.dtype))}
    raise ValueError(f"observation space {space} is not supported (a Box or a Dict of Boxes)")


class ChunkBuilder:
    """Collects an env worker's transitions step by step into chunks of `chunk_size`.

        builder = ChunkBuilder(env.observation_space, chunk_size=32)
        builder.append(obs, action, reward, next_obs, terminated, truncated, version, robot=0)
        if (chunk := builder.pop_chunk()) is not None:
            channel.put(chunk, timeout_s=5.0)
        ...
        last = builder.flush()                  # the partial chunk at shutdown (or None)

    Arrays are preallocated per chunk from the observation space and handed over without a copy;
    observations are copied in on `append`, so an env may reuse its buffers.
    """

    def __init__(self, obs_space: gym.spaces.Space, chunk_size: int = 32) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.chunk_size = chunk_size
        self._obs_layout = _obs_layout(obs_space)
        self._ready: deque[dict[str, np.ndarray]] = deque()
        self._arrays: dict[str, np.ndarray] | None = None
        self._action_shape: tuple[int, ...] | None = None
        self._count = 0

    def _allocate(self) -> dict[str, np.ndarray]:
        n = self.chunk_size
        arrays = {}
        for prefix in OBS_PREFIXES:
            for key, (shape, dtype) in self._obs_layout.items():
                arrays[prefix + key[3:]] = np.empty((n, *shape), dtype=dtype)
        for key, dtype in FIELD_DTYPES.items():
            shape = self._action_shape if key == "action" else ()
            arrays[key] = np.empty((n, *shape), dtype=dtype)
        return arrays

    def _write_obs(self, arrays: dict[str, np.ndarray], obs, prefix: str) -> None:
        flat = flatten_obs(obs, "obs")
        if set(flat) != set(self._obs_layout):
            raise ValueError(f"{prefix}: keys {sorted(flat)} do not match the space's {sorted(self._obs_layout)}")
        for key, value in flat.items():
            shape = self._obs_layout[key][0]
            if value.shape != shape:
                raise ValueError(f"{prefix}{key[3:]}: shape {value.shape}, the observation space says {shape}")
            arrays[prefix + key[3:]][self._count] = value

    def append(
        self,
        obs,
        action: np.ndarray,
        reward: float,
        next_obs,
        terminated: bool,
        truncated: bool,
        policy_version: int,
        robot: int = 0,
        source: int = SOURCE_ONLINE,
        actor: int = ACTOR_POLICY,
        success: bool = False,
    ) -> None:
        """Add one transition; when it completes a chunk, that chunk waits in `pop_chunk()`."""
        action = np.asarray(action, dtype=np.float32)
        if self._action_shape is None:
            self._action_shape = action.shape
        elif action.shape != self._action_shape:
            raise ValueError(f"action: shape {action.shape}, earlier actions had {self._action_shape}")
        if self._arrays is None:
            self._arrays = self._allocate()
        arrays, i = self._arrays, self._count
        self._write_obs(arrays, obs, "obs")
        self._write_obs(arrays, next_obs, "next_obs")
        arrays["action"][i] = action
        arrays["reward"][i] = reward
        arrays["terminated"][i] = float(terminated)
        arrays["truncated"][i] = float(truncated)
        arrays["policy_version"][i] = policy_version
        arrays["robot"][i] = robot
        arrays["source"][i] = source
        arrays["actor"][i] = actor
        arrays["success"][i] = float(success)
        self._count += 1
        if self._count == self.chunk_size:
            self._ready.append(arrays)
            self._arrays, self._count = None, 0

    def __len__(self) -> int:
        """Transitions held: complete chunks waiting plus the partial one."""
        return len(self._ready) * self.chunk_size + self._count

    @property
    def ready(self) -> bool:
        """True when a complete chunk waits in `pop_chunk()`."""
        return bool(self._ready)

    def pop_chunk(self) -> dict[str, np.ndarray] | None:
        """The oldest complete chunk of `chunk_size` transitions, or None."""
        return self._ready.popleft() if self._ready else None

    def flush(self) -> dict[str, np.ndarray] | None:
        """Everything held (complete chunks first, then the partial one) as one chunk, or None."""
        parts = list(self._ready)
        if self._count:
            parts.append({key: value[: self._count] for key, value in self._arrays.items()})
        self._ready.clear()
        self._arrays, self._count = None, 0
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else concat_chunks(parts)
