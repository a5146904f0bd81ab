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
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, model_validator

from fleetrl.algorithms.registry import ALGORITHMS, DEFAULT_ALGORITHM
from fleetrl.buffer.config import BufferConfig
from fleetrl.core.components import AlgorithmConfig, PolicyConfig
from fleetrl.core.config import import_modules, load_yaml, validate
from fleetrl.core.errors import ConfigError
from fleetrl.envs.intervention_config import InterventionConfig
from fleetrl.policies.registry import DEFAULT_POLICY, POLICIES
from fleetrl.rewards.config import RewardList


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
    success_key: str | None = Field(
        None, description="info key that says the task succeeded; None reads 'success', then 'is_success'."
    )

    @property
    def is_fleetrl_task(self) -> bool:
        return self.id.startswith("fleetrl/")

    def worker_count(self) -> int:
        return len(self.robots) if self.is_fleetrl_task else self.num_envs


class RuntimeConfig(BaseModel):
    """How the run is executed (config key `runtime`)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["async", "sync"] = Field(
        "async", description="'async': act, infer and learn at once; 'sync': collect, train, sync, repeat."
    )
    total_env_steps: int = Field(
        100_000, gt=0,
        description="Stop after this many environment steps in total (async: each env worker stops at its next chunk past it).",
    )
    max_wall_time_s: float = Field(1200.0, gt=0, description="Stop after this many seconds of wall time.")
    learning_starts: int = Field(1000, ge=0, description="Env steps of random actions before the learner starts.")
    inference: Literal["local", "remote"] = Field(
        "local", description="'local': each env worker runs its own policy copy; 'remote': inference workers answer env workers."
    )
    num_inference_workers: int = Field(1, ge=1, description="Inference workers when inference is 'remote'.")
    publish_every: int = Field(20, ge=1, description="Learner steps between weight publications.")
    max_staleness: int = Field(
        50, ge=1, description="Acting waits (with a deadline) when its weights are this many versions behind the newest."
    )
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
    imports: list[str] = Field(
        default_factory=list,
        description="Modules imported before the rest is read, in the driver and every worker: "
        "your own algorithms, policies, rewards or envs registering themselves.",
    )
    policy: Annotated[SerializeAsAny[PolicyConfig], BeforeValidator(POLICIES.validator(DEFAULT_POLICY))] = Field(
        default_factory=lambda: POLICIES.get(DEFAULT_POLICY)(),
        description="The policy network: `type` is a kind from fleetrl.policies.registry (mlp, cnn), the rest its config.",
    )
    algorithm: Annotated[SerializeAsAny[AlgorithmConfig], BeforeValidator(ALGORITHMS.validator(DEFAULT_ALGORITHM))] = Field(
        default_factory=lambda: ALGORITHMS.get(DEFAULT_ALGORITHM)(),
        description="The learning algorithm: `type` is a kind from fleetrl.algorithms.registry (sac, hg_dagger), the rest its config.",
    )
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    intervention: InterventionConfig = Field(default_factory=InterventionConfig)
    rewards: RewardList = Field(
        default_factory=list,
        description="Rewards that replace the env's (a weighted sum; see fleetrl.rewards.config), "
        "e.g. [{type: classifier, path: success.pt}]. Empty: the env's own reward.",
    )
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)

    @model_validator(mode="before")
    @classmethod
    def _import_plugins(cls, data: Any) -> Any:
        """Import `imports` first, so that the kinds they register validate below."""
        if isinstance(data, dict):
            import_modules(data.get("imports") or [], "imports")
        return data

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if self.env.is_fleetrl_task and not self.env.robots:
            raise ValueError("env.robots: a fleetrl task needs at least one robot")
        if self.algorithm.needs().expert_only and self.buffer.storage != "disk":
            raise ValueError(
                f"algorithm.type: {self.algorithm.type} samples expert-labelled steps from a disk buffer (buffer.storage: disk)"
            )
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
