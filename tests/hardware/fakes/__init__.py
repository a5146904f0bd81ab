"""Fakes of robot and camera libraries, modelled on their documented APIs, for driver tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_fake(module_name: str, filename: str) -> ModuleType:
    """A fresh copy of a fake library from this folder, named as the real module."""
    path = Path(__file__).parent / filename
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
