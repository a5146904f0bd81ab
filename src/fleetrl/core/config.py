"""Loading config files and validating them into typed models, with errors that name the key.

Every config in fleetrl is a pydantic model with `extra="forbid"` and a description on each
field; `validate` turns pydantic's errors into one `ConfigError` whose lines read
`<where>.<key>: <problem>`, so a user sees the file and the offending key at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from fleetrl.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from `path`; raise `ConfigError` naming the file when it cannot."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file: {err.strerror or err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _key_path(where: str, loc: tuple[Any, ...]) -> str:
    parts = [where] if where else []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "<root>"


def validate(model: type[M], data: Any, where: str = "") -> M:
    """Validate `data` into `model`; raise `ConfigError` whose lines name each offending key.

    `where` prefixes the key paths (for example "config.yaml: robots[1]").
    """
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            key = _key_path(where, tuple(problem["loc"]))
            message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
            lines.append(f"{key}: {message}")
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines)) from None


def import_modules(modules: list[str], key: str) -> None:
    """Import each module named (a user's plugins register their kinds on import); ConfigError
    naming `key` and the module when one cannot be imported."""
    import importlib

    for module in modules:
        if not isinstance(module, str):
            raise ConfigError(f"{key}: expected module names, got {module!r}")
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ConfigError(f"{key}: cannot import {module!r}: {err}") from None
