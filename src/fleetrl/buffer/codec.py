"""Chunk <-> bytes: how a chunk of transitions is laid out inside one on-disk record.

    payload = encode_chunk(chunk, compression="lz4")     # bytes, self-describing
    chunk = decode_chunk(payload)                        # the same arrays, bit for bit

Layout: a little-endian u32 header length H, H bytes of JSON (N and, per key, dtype, item shape,
codec and stored byte count), then each array's bytes in header order. Only uint8 arrays (camera
images) are compressed: they are most of a pixel transition's bytes and compress several times
(flat-shaded sim frames more, real frames less), while float state and actions barely compress and
would only cost CPU. `fleetrl bench buffer` measures "none", "lz4" and "zstd" side by side.

Decoded arrays are read-only views of one buffer owned by the returned dict; copy before writing.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Literal, get_args

import lz4.block
import numpy as np
import zstandard

from fleetrl.core.transitions import chunk_len

Compression = Literal["none", "lz4", "zstd"]
COMPRESSIONS: tuple[str, ...] = get_args(Compression)
_HEADER_LEN = struct.Struct("<I")
_ZSTD_LEVEL = 1  # the fast end: images must be written at robot rate on one core


class CodecError(ValueError):
    """A payload that does not decode (it passed its checksum, so it was written by another format)."""


def _compressible(array: np.ndarray) -> bool:
    return array.dtype == np.uint8 and array.nbytes >= 1024


def _compress(data: bytes, codec: str) -> bytes:
    if codec == "lz4":
        return lz4.block.compress(data, store_size=False)
    if codec == "zstd":
        return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)
    return data


def _decompress(data: memoryview, codec: str, nbytes: int) -> bytes | memoryview:
    if codec == "lz4":
        return lz4.block.decompress(data, uncompressed_size=nbytes)
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=nbytes)
    if codec == "none":
        return data
    raise CodecError(f"unknown codec {codec!r}")


def encode_chunk(chunk: Mapping[str, np.ndarray], compression: str = "lz4") -> bytes:
    """The bytes of one record holding `chunk` (flat keys, common leading length N)."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    n = chunk_len(chunk)
    entries, blobs = [], []
    for key in sorted(chunk):
        array = np.ascontiguousarray(chunk[key])
        codec = compression if _compressible(array) else "none"
        blob = _compress(array.tobytes(), codec)
        entries.append(
            {"key": key, "dtype": array.dtype.str, "shape": list(array.shape[1:]), "codec": codec, "stored": len(blob)}
        )
        blobs.append(blob)
    header = json.dumps({"n": n, "arrays": entries}, separators=(",", ":")).encode()
    return b"".join([_HEADER_LEN.pack(len(header)), header, *blobs])


def decode_chunk(payload: bytes | memoryview) -> dict[str, np.ndarray]:
    """The chunk encoded in `payload`. CodecError if the bytes are not a chunk record."""
    view = memoryview(payload)
    try:
        (header_len,) = _HEADER_LEN.unpack_from(view, 0)
        header = json.loads(bytes(view[4 : 4 + header_len]))
        n, pos, out = int(header["n"]), 4 + header_len, {}
        for entry in header["arrays"]:
            dtype, shape = np.dtype(entry["dtype"]), (n, *entry["shape"])
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            raw = _decompress(view[pos : pos + entry["stored"]], entry["codec"], nbytes)
            pos += entry["stored"]
            out[entry["key"]] = np.frombuffer(raw, dtype=dtype, count=nbytes // max(dtype.itemsize, 1)).reshape(shape)
    except (KeyError, TypeError, ValueError, struct.error, lz4.block.LZ4BlockError, zstandard.ZstdError) as err:
        raise CodecError(f"not a chunk record: {err}") from None
    if pos != len(view):
        raise CodecError(f"chunk record has {len(view) - pos} trailing bytes")
    return out
