"""A registry per extension point: a config's `type` names what serves it.

    ALGORITHMS = Registry("algorithm", {"sac": "fleetrl.algorithms.sac.config:SACConfig"})
    ALGORITHMS.register("my_algo", MyAlgoConfig)          # from a user's module, no edit in fleetrl
    config = ALGORITHMS.parse({"type": "sac", "batch_size": 64}, where="algorithm")

Entries are "module:attribute" strings imported on first use, so that listing kinds never
imports a heavy dependency (a robot driver's library, a large model), or objects registered at
run time. What an entry is depends on the registry: a config class (algorithms, policies,
rewards) or a class with a `config_class` (robots). Every lookup error is a `ConfigError` that
names the key and the known kinds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from fleetrl.core.config import validate
from fleetrl.core.errors import ConfigError


class Registry:
    """name -> entry, for one extension point (`what` names it in errors: "algorithm", "policy")."""

    def __init__(self, what: str, entries: Mapping[str, str], config_of: Callable[[Any], type[BaseModel]] | None = None) -> None:
        """`config_of(entry)` gives the pydantic class that validates an entry's config (default:
        the entry itself, which is then a config class)."""
        self.what = what
        self._targets: dict[str, Any] = dict(entries)
        self._config_of = config_of or (lambda entry: entry)

    def register(self, name: str, entry: Any, replace: bool = False) -> None:
        """Add a kind: `entry` is the object itself or a "module:attribute" string.

        Registering a name twice is an error unless `replace` (so two plugins cannot silently
        shadow each other); registering the very same entry again is allowed (a module imported twice).
        """
        if name in self._targets and not replace and self._targets[name] is not entry and self._targets[name] != entry:
            raise ValueError(f"{self.what} type {name!r} is registered already")
        self._targets[name] = entry

    def unregister(self, name: str) -> None:
        """Remove a kind (a plugin unloading, a test cleaning up); unknown names are ignored."""
        self._targets.pop(name, None)

    def names(self) -> list[str]:
        """The registered kinds, sorted."""
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def get(self, name: str) -> Any:
        """The entry registered as `name` (imported now if it is a string); `ConfigError` when unknown."""
        try:
            target = self._targets[name]
        except KeyError:
            raise ConfigError(f"unknown {self.what} type {name!r}; known types: {', '.join(self.names())}") from None
        if isinstance(target, str):
            module_name, _, attribute = target.partition(":")
            target = getattr(importlib.import_module(module_name), attribute)
            self._targets[name] = target
        return target

    def parse(self, data: Any, where: str, default_type: str | None = None) -> BaseModel:
        """Validate one mapping with a `type` key into its kind's config class; a config object of
        a registered class passes through. Errors name `where` and the key."""
        if isinstance(data, BaseModel):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a mapping with a 'type' key, got {type(data).__name__}")
        if "type" not in data and default_type is not None:
            data = {**data, "type": default_type}
        if "type" not in data:
            raise ConfigError(f"{where}.type: missing; known types: {', '.join(self.names())}")
        try:
            entry = self.get(str(data["type"]))
        except ConfigError as err:
            raise ConfigError(f"{where}.type: {err}") from None
        return validate(self._config_of(entry), dict(data), where)

    def validator(self, default_type: str | None = None) -> Callable[[Any], BaseModel]:
        """A pydantic before-validator for a field holding one config of this registry:

            algorithm: Annotated[SerializeAsAny[AlgorithmConfig], BeforeValidator(ALGORITHMS.validator("sac"))]

        It looks the kind up when the config is validated (so kinds registered later count), and
        lets pydantic report the kind's own errors under the field's key."""

        def check(data: Any) -> BaseModel:
            if isinstance(data, BaseModel):
                return data
            if not isinstance(data, Mapping):
                raise ValueError(f"expected a mapping with a 'type' key, got {type(data).__name__}")
            kind = data.get("type", default_type)
            if kind is None:
                raise ValueError(f"'type' is missing; known {self.what} types: {', '.join(self.names())}")
            if kind not in self:
                raise ValueError(f"unknown {self.what} type {kind!r}; known types: {', '.join(self.names())}")
            return self._config_of(self.get(kind)).model_validate({**data, "type": kind})

        return check
