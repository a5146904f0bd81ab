"""Who may take over the robots during training (run config key `intervention`).

    intervention: {device: spacemouse}
    intervention: {device: expert, hold_steps: 10, rule: {kind: going_wrong, patience: 15}}

`device` is "none", "expert" (the task's scripted expert plays the person) or a teleop kind of
`fleetrl.hardware.teleop.registry`, so a device registered there is accepted here with no edit.
`rule` says when the expert takes over (`fleetrl.envs.intervention.ExpertOperator` applies it).
Configs written before the rule had its own section still load: `rule: going_wrong` with
`threshold`, `patience`, `min_progress` or `rate` beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fleetrl.hardware.teleop.registry import TELEOP

OPERATOR_DEVICES = ("none", "expert")  # the devices that are not teleop kinds


class TakeoverRule(BaseModel):
    """When the scripted expert takes control (config key `intervention.rule`).

    "divergence":  the policy's action differs from the expert's by more than `threshold`
                   (largest absolute difference over action components, actions in [-1, 1]);
    "going_wrong": the task's progress (its shaped reward, in [0, 1]) has not improved by
                   `min_progress` over the last `patience` steps, or fell `threshold` below the
                   episode's best;
    "fixed_rate":  on any step with probability `rate`;
    "never":       the expert only watches (interventions off, recording unchanged).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["divergence", "going_wrong", "fixed_rate", "never"] = Field(
        "divergence", description="Which test decides a takeover (see the class docstring)."
    )
    threshold: float = Field(0.5, gt=0, description="'divergence': largest action difference tolerated; 'going_wrong': progress drop.")
    patience: int = Field(15, ge=1, description="'going_wrong': steps without progress before taking over.")
    min_progress: float = Field(0.01, ge=0, description="'going_wrong': progress that counts as progress over `patience` steps.")
    rate: float = Field(0.02, ge=0, le=1, description="'fixed_rate': chance of a takeover on each step.")


_RULE_KEYS = tuple(name for name in TakeoverRule.model_fields if name != "kind")


class InterventionConfig(BaseModel):
    """Who may take over the robots during training, and for how long (config key `intervention`)."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(
        "none",
        description="'none': no interventions; 'expert': the task's scripted expert plays the human; "
        "or a teleop device kind (keyboard, gamepad, spacemouse: see fleetrl.hardware.teleop.registry), a person.",
    )
    rule: TakeoverRule = Field(default_factory=TakeoverRule, description="Device 'expert': when it takes over.")
    hold_steps: int = Field(10, ge=1, description="Steps the operator keeps control once it takes over.")

    @model_validator(mode="before")
    @classmethod
    def _flat_rule_keys(cls, data: Any) -> Any:
        """`rule: going_wrong` with the rule's fields beside it (the older, flat form) becomes the
        nested `rule` section. A nested `rule` mapping with flat fields beside it is left alone, so
        the flat fields are reported as unknown keys rather than silently merged."""
        if not isinstance(data, Mapping) or isinstance(data.get("rule"), Mapping):
            return data
        flat = {key: data[key] for key in _RULE_KEYS if key in data}
        rule = data.get("rule")
        if not flat and not isinstance(rule, str):
            return data
        nested = {"kind": rule} if rule is not None else {}
        rest = {key: value for key, value in data.items() if key not in flat}
        return {**rest, "rule": {**nested, **flat}}

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        known = (*OPERATOR_DEVICES, *TELEOP.names())  # read now: a device registered later counts
        if value not in known:
            raise ValueError(f"unknown device {value!r}; known devices: {', '.join(known)}")
        return value

    @property
    def enabled(self) -> bool:
        return self.device != "none"
