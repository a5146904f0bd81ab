"""How one chunk key becomes one LeRobot parquet column, and how a column's cells become an array.

    "obs.state" or a vector "obs"     observation.state           fixed-size list of float32
    "obs.<cam>" uint8 (H, W, C)       observation.images.<cam>    dtype "image": {bytes: PNG, path: null}
    other "obs.<name>"                observation.<name>
    "action"                          action
    "reward"                          next.reward                 scalar float32
    every other key <k>               fleetrl.<k>                 terminated, truncated, policy_version, ...

A feature of shape (D,) is a fixed-size list column and one of shape () a plain scalar column
(info.json says [1], as LeRobot does); images are lossless PNG (C of 1, 3 or 4 channels).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

FLEETRL_PREFIX = "fleetrl."
_FIELD_COLUMNS = {"action": "action", "reward": "next.reward"}
_PNG_LEVEL = 1  # lossless at any level; 1 encodes several times faster than the default 6
_IMAGE_NAMES = ["height", "width", "channel"]


def is_obs_key(key: str) -> bool:
    return key == "obs" or key.startswith("obs.")


def is_image(dtype: np.dtype, shape: tuple[int, ...]) -> bool:
    """uint8 (H, W, C) with C in 1, 3, 4: stored as PNG images."""
    return np.dtype(dtype) == np.uint8 and len(shape) == 3 and shape[-1] in (1, 3, 4)


@dataclass(frozen=True)
class Column:
    """Chunk key `key` (item dtype and shape) stored as LeRobot column `name`."""

    key: str
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def image(self) -> bool:
        return is_obs_key(self.key) and is_image(self.dtype, self.shape)

    def feature(self) -> dict:
        """The column's info.json entry: dtype, shape and names."""
        if self.image:
            return {"dtype": "image", "shape": list(self.shape), "names": _IMAGE_NAMES}
        if not self.shape:
            return {"dtype": self.dtype.name, "shape": [1], "names": None}
        short = self.name.rpartition(".")[2]
        names = [f"{short}_{i}" for i in range(self.shape[0])] if len(self.shape) == 1 else None
        return {"dtype": self.dtype.name, "shape": list(self.shape), "names": names}

    def to_arrow(self, values: np.ndarray) -> pa.Array:
        """The column cells of `values` (N, *shape)."""
        if self.image:
            return png_cells(values)
        cells = pa.array(np.ascontiguousarray(values).reshape(-1))
        for size in reversed(self.shape):
            cells = pa.FixedSizeListArray.from_arrays(cells, size)
        return cells


def _obs_column_name(key: str, image: bool) -> str:
    name = key.partition(".")[2]
    if not name:
        return "observation.image" if image else "observation.state"
    return f"observation.images.{name}" if image else f"observation.{name}"


def plan_columns(episode: dict[str, np.ndarray]) -> list[Column]:
    """The columns of a buffer whose chunks have `episode`'s keys, in info.json order: observations,
    action, next.reward, then fleetrl.*. ValueError when obs and next_obs keys do not pair up."""
    obs_keys = sorted(key for key in episode if is_obs_key(key))
    next_keys = sorted(key for key in episode if key == "next_obs" or key.startswith("next_obs."))
    if sorted("next_" + key for key in obs_keys) != next_keys:
        raise ValueError(f"observation keys {obs_keys} and next observation keys {next_keys} do not pair up")
    paired = {*obs_keys, *next_keys}

    def column(key: str, name: str) -> Column:
        value = np.asarray(episode[key])
        return Column(key, name, value.dtype, tuple(value.shape[1:]))

    columns = [column(key, _obs_column_name(key, is_image(episode[key].dtype, episode[key].shape[1:])))
               for key in obs_keys]
    columns += [column(key, name) for key, name in _FIELD_COLUMNS.items() if key in episode]
    columns += [column(key, FLEETRL_PREFIX + key) for key in sorted(episode)
                if key not in paired and key not in _FIELD_COLUMNS]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"chunk keys {sorted(episode)} map to clashing LeRobot columns {names}")
    return columns


def png_cells(images: np.ndarray) -> pa.StructArray:
    """uint8 (N, H, W, C) images as LeRobot "image" cells: a struct of PNG bytes and a null path."""
    blobs = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
            buffer, format="PNG", compress_level=_PNG_LEVEL
        )
        blobs.append(buffer.getvalue())
    return pa.StructArray.from_arrays([pa.array(blobs, pa.binary()), pa.nulls(len(blobs), pa.string())],
                                      names=["bytes", "path"])


def _image_array(image: Image.Image, name: str) -> np.ndarray:
    """uint8 (H, W, C): 8-bit grey, RGB and RGBA as they are, other 8-bit modes as RGB."""
    if image.mode not in ("L", "RGB", "RGBA"):
        if image.mode.startswith(("I", "F")):
            raise ValueError(f"column {name!r}: {image.mode} images are not 8-bit; fleetrl stores uint8 images")
        image = image.convert("RGB")
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def decode_images(column: pa.ChunkedArray | pa.Array, name: str, root: Path) -> np.ndarray:
    """uint8 (N, H, W, C) from "image" cells: {bytes, path} structs (bytes, or else a file at path,
    relative to the dataset folder `root`) or plain binary cells. ValueError naming the column when a
    cell is empty or the images differ in size."""
    cells = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_struct(cells.type):
        fields = dict(zip([field.name for field in cells.type], cells.flatten(), strict=True))
        blobs, paths = fields.get("bytes"), fields.get("path")
    else:
        blobs, paths = cells, None
    images = []
    for i in range(len(cells)):
        blob = blobs[i].as_py() if blobs is not None else None
        if blob is not None:
            image = Image.open(io.BytesIO(blob))
        elif paths is not None and paths[i].as_py():
            image = Image.open(Path(root) / paths[i].as_py())
        else:
            raise ValueError(f"column {name!r}: row {i} holds neither image bytes nor a path")
        with image:
            images.append(_image_array(image, name))
    try:
        return np.stack(images)
    except ValueError:
        raise ValueError(f"column {name!r}: images of different sizes {sorted({a.shape for a in images})}") from None


def column_values(column: pa.ChunkedArray | pa.Array, name: str) -> np.ndarray:
    """(N, *item shape) numpy array of a scalar or (nested) list column. ValueError naming the column
    when it holds nulls or lists of different lengths."""
    cells = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n, shape = len(cells), []
    while pa.types.is_list(cells.type) or pa.types.is_large_list(cells.type) or pa.types.is_fixed_size_list(cells.type):
        if cells.null_count:
            raise ValueError(f"column {name!r} holds nulls")
        if pa.types.is_fixed_size_list(cells.type):
            size = cells.type.list_size
        else:
            lengths = pc.list_value_length(cells).to_numpy(zero_copy_only=False)
            size = int(lengths[0]) if len(lengths) else 0
            if (lengths != size).any():
                raise ValueError(f"column {name!r} holds lists of different lengths")
        shape.append(size)
        cells = cells.flatten()
    if cells.null_count:
        raise ValueError(f"column {name!r} holds nulls")
    return cells.to_numpy(zero_copy_only=False).reshape(n, *shape)
