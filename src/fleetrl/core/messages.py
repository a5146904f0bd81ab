"""The messages workers and the run hub exchange: plain dataclasses, the same in one process and on Ray.

    control = links.report(stats)      # an env worker's WorkerStats in, the hub's Control back
    if control.stop: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WorkerStats:
    """What an env worker reports after each chunk; cumulative since the worker (re)started.

    Times are seconds. `acting_s` is time inside `env.step` (the robot executing actions,
    including a paced robot's wait for its control tick); `waiting_s` is time waiting for
    inference, weights or the learner. `policy_versions` are those of the actions in the chunk.
    """

    name: str
    env_steps: int = 0
    episodes: int = 0
    successes: int = 0
    returns_sum: float = 0.0
    acting_s: float = 0.0
    waiting_s: float = 0.0
    inference_s: float = 0.0
    state: str = "starting"
    policy_version: int = 0
    staleness_sum: float = 0.0
    staleness_max: int = 0
    recent_success: list[bool] = field(default_factory=list)
    recent_returns: list[float] = field(default_factory=list)
    inference_ms: list[float] = field(default_factory=list)
    intervention_steps: int = 0  # steps an operator (person or scripted expert) chose the action
    takeovers: int = 0  # times control passed to an operator
    recent_intervention: list[float] = field(default_factory=list)  # per recent episode: share of steps taken over


@dataclass
class Control:
    """The hub's answer to a report: stop or go on, and what is newest."""

    stop: bool
    latest_version: int
    updates: int
    learner_generation: int
    env_steps: int
    learner_backlog: float
