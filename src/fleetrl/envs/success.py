"""Reading a step's success from its `info`: the one place that knows which key says so.

    success = episode_success(info, config.env.success_key)

fleetrl tasks report info["success"]; gymnasium-robotics envs report "is_success"; others pick
their own name (gym-hil's PandaPickCube reports "succeed"), which a run config names in
`env.success_key`. Everything that counts successes (env workers, evaluation, the success
reward) reads through here, so that one key setting reaches all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_KEYS = ("success", "is_success")


def success_keys(key: str | None) -> tuple[str, ...]:
    """The info keys read, in order: `key` alone, or with no key the defaults."""
    return DEFAULT_KEYS if key is None else (key,)


def reports_success(info: Mapping[str, Any], key: str | None = None) -> bool:
    """Whether `info` carries a success flag under the keys `episode_success` reads."""
    return any(name in info for name in success_keys(key))


def episode_success(info: Mapping[str, Any], key: str | None = None) -> bool:
    """Whether the step whose `info` this is reached the task's goal: `info[key]`, or with no key
    info["success"], else info["is_success"]; False when the flag is absent. Read on the last
    step of an episode, it says whether the episode succeeded."""
    for name in success_keys(key):
        if name in info:
            return bool(info[name])
    return False
