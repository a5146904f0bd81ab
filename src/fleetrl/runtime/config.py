"""The run config: one file describes a training run, in one process or on a Ray cluster.

    name: pick_cube_state
    env: {id: fleetrl/PickCube-v0, kwargs: {obs_mode: state, reward: shaped}, robots: [sim_panda]}
    policy: {type: mlp}
    algorithm: {type: sac, utd_ratio: 1}
    buffer: {capacity: 200000}
    runtime: {mode: async, total_env_steps: 100000}

`load_run_config(path, overrides)` validates everything at load time: a bad key or value fails
with the file and the key named (`ConfigError`, exit code 2) before any worker starts.
Overrides are `key.path=value` strings (values parsed as YAML), as on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetrl.algorithms.hg_dagger.config import HGDAggerConfig
from fleetrl.algorithms.sac.config import SACConfig
from fleetrl.core.config import load_yaml, validate
from fleetrl.core.errors import ConfigError
from fleetrl.policies.config import PolicyConfig


class EnvConfig(BaseModel):
    """What the robots do (config key `env`)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="A gymnasium environment id: fleetrl/PickCube-v0, fleetrl/PegInsertion-v0 or any registered id.")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of gymnasium.make (e.g. obs_mode, reward).")
    robots: list[str | dict[str, Any]] = Field(
        default_factory=list,
        description="fleetrl tasks: one env worker per entry (a robot type, 'host:port' of a robot server, or a robot config mapping).",
    )
    num_envs: int = Field(1, ge=1, description="Env workers for an environment that is not a fleetrl task (no robots).")
    paced: bool = Field(False, description="Run simulated robots on their wall-clock control rate (10 Hz), like real ones.")
    imports: list[str] = Field(default_factory=list, description="Modules to import first (to register your own environment ids).")

    @property
    def is_fleetrl_task(self) -> bool:
        return self.id.startswith("fleetrl/")

    def worker_count(self) -> int:
        return len(self.robots) if self.is_fleetrl_task else self.num_envs


class BufferConfig(BaseModel):
    """Replay (config key `buffer`)."""

    model_config = ConfigDict(extra="forbid")

    storage: str = Field(
        "disk", pattern="^(disk|memory)$",
        description="'disk': every transition written to the run's buffer folder and kept across crashes and resumes; 'memory': an in-RAM ring, lost at exit.",
    )
    path: str | None = Field(None, description="Buffer folder for storage 'disk' (default: <run dir>/buffer).")
    writer: str = Field(
        "learner", pattern="^(learner|env)$",
        description="Storage 'disk': 'learner' writes one shard from the chunks env workers send it; 'env': each env worker writes its own shard on its node's disk and the learner reads them all (from another node through a shard server).",
    )
    capacity: int = Field(200_000, gt=0, description="Storage 'memory': transitions kept; the oldest are overwritten.")
    recent_window: int | None = Field(
        None, gt=0, description="Storage 'disk': sample online data only from the newest this many transitions (None: all of it)."
    )
    durability: str = Field(
        "group", pattern="^(chunk|episode|group)$",
        description="When writes are fsynced and acknowledged: every chunk, at each episode end, or every group_commit_ms.",
    )
    group_commit_ms: float = Field(50.0, gt=0, description="Longest wait before written transitions are made durable.")
    compression: str = Field("lz4", pattern="^(none|lz4|zstd)$", description="Compression of camera images on disk.")
    cache_mb: float = Field(1024.0, ge=0, description="Decoded records held in memory for sampling, in MB.")
    cache_mode: str = Field(
        "hot", pattern="^(hot|exact|none)$",
        description="'hot': batches from the records in memory, rotated in the background; 'exact': uniform over everything, misses read from disk; 'none': every read from disk.",
    )
    rotate_per_batch: float = Field(
        0.25, ge=0, description="Cache mode 'hot': records swapped into memory per batch sampled (more mixes faster, samples slower)."
    )
    prefetch_batches: int = Field(2, ge=0, description="Batches prepared ahead in a background thread (0: none).")
    load: list[str] = Field(default_factory=list, description="Earlier runs' buffer folders, sampled read-only alongside this run's data.")
    demos: list[str] = Field(
        default_factory=list,
        description="Demonstrations mixed into every batch (RLPD): .npz files or buffer folders (e.g. from `fleetrl buffer import`).",
    )
    demo_ratio: float = Field(0.5, ge=0, lt=1, description="Share of each batch drawn from demonstrations when demos are given.")
    interventions_as_demos: bool = Field(
        False, description="Route steps a human or scripted expert took over into the demonstration stream."
    )


class InterventionConfig(BaseModel):
    """Who may take over the robots during training (config key `intervention`)."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(
        "none", pattern="^(none|expert|keyboard|gamepad|spacemouse)$",
        description="'expert': the task's scripted expert plays the human; keyboard, gamepad, spacemouse: a person; 'none': no interventions.",
    )
    rule: str = Field(
        "divergence", pattern="^(divergence|going_wrong|fixed_rate|never)$",
        description="Device 'expert': when it takes over (see fleetrl.envs.intervention.TakeoverRule).",
    )
    threshold: float = Field(0.5, gt=0, description="Rule 'divergence': largest action difference tolerated; 'going_wrong': progress drop.")
    patience: int = Field(15, ge=1, description="Rule 'going_wrong': steps without progress before taking over.")
    min_progress: float = Field(0.01, ge=0, description="Rule 'going_wrong': progress that counts as progress over `patience` steps.")
    rate: float = Field(0.02, ge=0, le=1, description="Rule 'fixed_rate': chance of a takeover on each step.")
    hold_steps: int = Field(10, ge=1, description="Steps the operator keeps control once it takes over.")

    @property
    def enabled(self) -> bool:
        return self.device != "none"


class RuntimeConfig(BaseModel):
    """How the run is executed (config key `runtime`)."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field("async", pattern="^(async|sync)$", description="'async': act, infer and learn at once; 'sync': collect, train, sync, repeat.")
    total_env_steps: int = Field(100_000, gt=0, description="Stop after this many environment steps in total (async: each env worker stops at its next chunk past it).")
    max_wall_time_s: float = Field(1200.0, gt=0, description="Stop after this many seconds of wall time.")
    learning_starts: int = Field(1000, ge=0, description="Env steps of random actions before the learner starts.")
    inference: str = Field("local", pattern="^(local|remote)$", description="'local': each env worker runs its own policy copy; 'remote': inference workers answer env workers.")
    num_inference_workers: int = Field(1, ge=1, description="Inference workers when inference is 'remote'.")
    publish_every: int = Field(20, ge=1, description="Learner steps between weight publications.")
    max_staleness: int = Field(50, ge=1, description="Acting waits (with a deadline) when its weights are this many versions behind the newest.")
    max_updates_per_env_step: float | None = Field(
        None, gt=0, description="Learner steps allowed per env step collected (None: the learner runs free once learning starts)."
    )
    max_env_steps_ahead: int | None = Field(
        None, ge=1, description="Acting waits when env steps run this far ahead of learner updates / utd_ratio (None: robots never wait)."
    )
    report_every_s: float = Field(
        0.5, gt=0, description="An env worker ships its transitions, reports and picks up newer weights at least this often."
    )
    chunk_size: int = Field(32, ge=1, description="Transitions an env worker sends to the buffer at once.")
    channel_capacity: int = Field(8, ge=1, description="Chunks in flight per env worker before it waits (backpressure).")
    sync_episodes_per_round: int = Field(4, ge=1, description="Sync mode: episodes per robot collected before each training phase.")
    sync_updates_per_round: int | None = Field(None, description="Sync mode: learner steps per round (default: env steps collected x utd).")
    eval_every_s: float = Field(120.0, gt=0, description="Seconds between evaluations of the deterministic policy.")
    eval_episodes: int = Field(10, ge=1, description="Episodes per evaluation.")
    eval_first_weights: bool = Field(
        False, description="Also evaluate the first published weights (the starting point of a pretrained policy)."
    )
    target_eval_success: float | None = Field(
        None, gt=0, le=1, description="End the run once an evaluation reaches this success rate (None: run the full budget)."
    )
    checkpoint_every_s: float = Field(120.0, gt=0, description="Seconds between checkpoints (and one at the end).")
    log_every_s: float = Field(5.0, gt=0, description="Seconds between metrics lines.")
    restart_failed_workers: bool = Field(True, description="Restart a worker that dies (up to max_restarts) instead of stopping.")
    max_restarts: int = Field(3, ge=0, description="Restarts allowed per worker.")
    call_timeout_s: float = Field(60.0, gt=0, description="Deadline of every call between workers.")
    device: str = Field("cpu", description="Learner device: 'cpu' or 'cuda' (a GPU is used only when asked for).")
    learner_threads: int = Field(1, ge=1, description="torch threads of the learner.")
    ray_address: str | None = Field(None, description="Ray cluster to join ('auto' or host:port); none starts Ray in-process.")


class RunConfig(BaseModel):
    """A whole training run."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("run", pattern=r"^[A-Za-z0-9_.-]+$", description="Run name; run folders are runs/<name>-<timestamp>.")
    seed: int = Field(0, description="Seed of everything random in the run.")
    env: EnvConfig
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    algorithm: SACConfig | HGDAggerConfig = Field(default_factory=SACConfig, discriminator="type")
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    intervention: InterventionConfig = Field(default_factory=InterventionConfig)
    rewards: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Rewards that replace the env's (a weighted sum; see fleetrl.rewards.config), e.g. [{type: classifier, path: success.pt}]. Empty: the env's own reward.",
    )
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)

    @model_validator(mode="before")
    @classmethod
    def _default_algorithm_type(cls, data: Any) -> Any:
        """`algorithm` without a `type` is SAC (configs written before there was a choice)."""
        if isinstance(data, dict) and isinstance(data.get("algorithm"), dict) and "type" not in data["algorithm"]:
            data = {**data, "algorithm": {**data["algorithm"], "type": "sac"}}
        return data

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if self.env.is_fleetrl_task and not self.env.robots:
            raise ValueError("env.robots: a fleetrl task needs at least one robot")
        if self.algorithm.type == "hg_dagger" and self.buffer.storage != "disk":
            raise ValueError("algorithm.type: hg_dagger samples expert-labelled steps from a disk buffer (buffer.storage: disk)")
        if self.intervention.device == "expert" and not self.env.is_fleetrl_task:
            raise ValueError("intervention.device: the scripted expert needs a fleetrl task (env.id fleetrl/...)")
        return self


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` strings to a nested mapping (values parsed as YAML)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key.path=value")
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a mapping")
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: value is not valid YAML: {err}") from None
    return data


def parse_run_config(data: dict[str, Any], where: str) -> RunConfig:
    return validate(RunConfig, data, where)


def load_run_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Load, override and validate a run config; errors name the file and the key."""
    data = apply_overrides(load_yaml(path), overrides or [])
    return parse_run_config(data, str(path))


def dump_run_config(config: RunConfig) -> str:
    """The resolved config as YAML (every default written out), as stored in a run folder."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
