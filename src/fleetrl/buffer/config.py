"""Config of the replay (run config key `buffer`), with its cache and durability as nested sections.

    buffer:
      storage: disk
      durability: {mode: group, group_commit_ms: 50}
      cache: {mb: 1024, mode: hot, rotate_per_batch: 0.25, prefetch_batches: 2}

The components take these models as they are (`ShardWriter` a `DurabilityConfig`,
`PersistentReplay` a `CacheConfig`): pydantic checks every value once, here.

Run folders written before the sections existed store flat keys (`cache_mb`, `cache_mode`,
`rotate_per_batch`, `prefetch_batches`, `durability: group` as a string, `group_commit_ms`), and
`--resume` reads them back; `BufferConfig` moves them into their sections before validating. A flat
key given beside its section wins, as an override on the command line means it to.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetrl.buffer.codec import Compression

CacheMode = Literal["hot", "exact", "none"]  # "none", not "off": YAML reads off as false
DurabilityMode = Literal["chunk", "episode", "group"]
MB = 1 << 20


class CacheConfig(BaseModel):
    """How much of a disk buffer is held in memory, and how batches use it (key `buffer.cache`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mb: float = Field(1024.0, ge=0, description="Decoded records held in memory for sampling, in MB (2^20 bytes).")
    mode: CacheMode = Field(
        "hot",
        description="'hot': batches from the records in memory, rotated in the background; "
        "'exact': uniform over everything, misses read from disk; 'none': every read from disk.",
    )
    rotate_per_batch: float = Field(
        0.25,
        ge=0,
        description="Mode 'hot': records swapped into memory per batch sampled. Each swap reads and decodes a record "
        "beside the sampler; at 0.25 a memory of N records turns over every 4N batches (more mixes faster, samples slower).",
    )
    prefetch_batches: int = Field(2, ge=0, description="Batches prepared ahead in a background thread (0: none).")

    @property
    def max_bytes(self) -> int:
        """`mb` in bytes."""
        return int(self.mb * MB)


class DurabilityConfig(BaseModel):
    """When writes are fsynced and so acknowledged (key `buffer.durability`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: DurabilityMode = Field(
        "group",
        description="'chunk': every add is fsynced before it returns (one fsync per chunk); 'episode': a commit when "
        "a chunk ends an episode, and at least every group_commit_ms; 'group': one commit for everything written in "
        "each group_commit_ms window.",
    )
    group_commit_ms: float = Field(50.0, gt=0, description="Longest wait, in ms, before written transitions are made durable.")


# Flat keys of earlier run configs -> (section, key in that section).
LEGACY_KEYS = {
    "cache_mb": ("cache", "mb"),
    "cache_mode": ("cache", "mode"),
    "rotate_per_batch": ("cache", "rotate_per_batch"),
    "prefetch_batches": ("cache", "prefetch_batches"),
    "group_commit_ms": ("durability", "group_commit_ms"),
}


def nest_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a `buffer` mapping with the flat keys of earlier versions moved into their
    sections (see the module docstring). A section that is neither a mapping nor a model is left
    for validation to name."""
    data = dict(data)
    if isinstance(data.get("durability"), str):
        data["durability"] = {"mode": data["durability"]}
    for flat, (section, key) in LEGACY_KEYS.items():
        if flat not in data:
            continue
        nested = data.get(section)
        nested = nested.model_dump() if isinstance(nested, BaseModel) else ({} if nested is None else nested)
        if isinstance(nested, dict):
            data[section] = {**nested, key: data.pop(flat)}
    return data


class BufferConfig(BaseModel):
    """Replay (config key `buffer`)."""

    model_config = ConfigDict(extra="forbid")

    storage: Literal["disk", "memory"] = Field(
        "disk",
        description="'disk': every transition written to the run's buffer folder and kept across crashes and resumes; "
        "'memory': an in-RAM ring, lost at exit.",
    )
    path: str | None = Field(None, description="Buffer folder for storage 'disk' (default: <run dir>/buffer).")
    writer: Literal["learner", "env"] = Field(
        "learner",
        description="Storage 'disk': 'learner' writes one shard from the chunks env workers send it; 'env': each env "
        "worker writes its own shard on its node's disk and the learner reads them all (from another node through a "
        "shard server).",
    )
    capacity: int = Field(200_000, gt=0, description="Storage 'memory': transitions kept; the oldest are overwritten.")
    recent_window: int | None = Field(
        None, gt=0, description="Storage 'disk': sample online data only from the newest this many transitions (None: all of it)."
    )
    durability: DurabilityConfig = Field(
        default_factory=DurabilityConfig, description="Storage 'disk': when writes are fsynced and acknowledged."
    )
    compression: Compression = Field("lz4", description="Compression of camera images on disk: 'none', 'lz4' or 'zstd'.")
    cache: CacheConfig = Field(
        default_factory=CacheConfig, description="Storage 'disk': records held in memory for sampling, and how batches use them."
    )
    load: list[str] = Field(default_factory=list, description="Earlier runs' buffer folders, sampled read-only alongside this run's data.")
    demos: list[str] = Field(
        default_factory=list,
        description="Demonstrations mixed into every batch (RLPD): .npz files or buffer folders (e.g. from `fleetrl buffer import`).",
    )
    demo_ratio: float = Field(0.5, ge=0, lt=1, description="Share of each batch drawn from demonstrations when demos are given.")
    interventions_as_demos: bool = Field(
        False, description="Route steps a human or scripted expert took over into the demonstration stream."
    )

    @model_validator(mode="before")
    @classmethod
    def _nest_legacy_keys(cls, data: Any) -> Any:
        return nest_legacy_keys(data) if isinstance(data, dict) else data
