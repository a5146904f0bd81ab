"""Demonstration files: one chunk of transitions and its metadata in a compressed .npz.

    chunk, meta = record_expert_demos(...)   # fleetrl.envs.demonstrations, or a teleop device
    save_demos("demos/pick_cube.npz", chunk, meta)
    chunk, meta = load_demos("demos/pick_cube.npz")      # what `buffer.demos` in a run config loads

The file holds the chunk's arrays under their chunk keys (see `fleetrl.core.transitions`) and
the metadata as JSON in the array "__meta__"; it loads without pickle. Writes are atomic: a
temporary file beside the target is written, fsynced and renamed over it, so a crash leaves
either the old file or the new one, never a partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fleetrl.core.errors import FleetrlError
from fleetrl.core.files import fsync_dir
from fleetrl.core.transitions import chunk_len, with_default_fields

META_KEY = "__meta__"
FORMAT = "fleetrl-demos"
FORMAT_VERSION = 1


class DemoFileError(FleetrlError, ValueError):
    """A demonstration file is not a readable fleetrl demonstration file; the message says why."""


def _write_npz(file, arrays: Mapping[str, np.ndarray]) -> None:
    np.savez_compressed(file, **arrays)


def save_demos(path: str | Path, chunk: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write `chunk` and JSON-serialisable `meta` to `path` atomically; returns the path."""
    chunk_len(chunk)
    for key, value in chunk.items():
        if key == META_KEY or np.asarray(value).dtype.kind not in "biuf":
            raise ValueError(f"chunk[{key!r}]: only numeric arrays can be saved (got {np.asarray(value).dtype})")
    header = {"format": FORMAT, "version": FORMAT_VERSION, **meta}
    arrays = {key: np.asarray(value) for key, value in chunk.items()}
    arrays[META_KEY] = np.array(json.dumps(header))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def load_demos(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(chunk, meta) from a file written by `save_demos`.

    Raises FileNotFoundError when there is no file, DemoFileError when it is not a valid one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    damaged = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        data = np.load(path, allow_pickle=False)
    except damaged as err:
        raise DemoFileError(f"not a readable .npz archive: {type(err).__name__}: {err}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DemoFileError("a single .npy array, not an .npz archive")
    try:
        with data:
            arrays = {key: data[key] for key in data.files}
    except damaged as err:
        raise DemoFileError(f"damaged .npz archive: {type(err).__name__}: {err}") from None
    if META_KEY not in arrays:
        raise DemoFileError("no metadata: not written by fleetrl's save_demos")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as err:
        raise DemoFileError(f"metadata is not valid JSON: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DemoFileError(f"metadata does not name the format {FORMAT!r}")
    try:
        arrays = with_default_fields(arrays)  # files from before the actor and success fields
    except ValueError as err:
        raise DemoFileError(str(err)) from None
    return arrays, meta
