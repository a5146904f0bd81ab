"""Frames of a LeRobotDataset "video" feature, decoded with PyAV (`pip install av`, optional).

    frames = decode_frames(path, timestamps, fps=30, feature="observation.images.top")   # (n, H, W, 3) uint8

A dataset's frame t of an episode is the video frame shown at from_timestamp + timestamp[t] of the
episode's mp4 file (v3.0 packs many episodes into one file; v2.x has one file per episode, from 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def require_av(feature: str):
    """The `av` module; ValueError naming `feature` and saying to install av when it is missing."""
    try:
        import av
    except ImportError:
        raise ValueError(
            f"feature {feature!r} is stored as video: decoding it needs PyAV, which is not installed "
            "(pip install av)"
        ) from None
    return av


def decode_frames(path: Path, timestamps: np.ndarray, fps: float, feature: str) -> np.ndarray:
    """RGB frames (n, H, W, 3) uint8 of `path` nearest to each of `timestamps` (seconds).

    ValueError when PyAV is missing or a timestamp has no frame within half a frame period;
    FileNotFoundError naming a missing video file.
    """
    av = require_av(feature)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: video file of feature {feature!r} is missing")
    timestamps = np.asarray(timestamps, dtype=np.float64)
    tolerance = 0.5 / fps
    first, last = float(timestamps.min()), float(timestamps.max())
    frames, times = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # Seek to the key frame at or before the first wanted frame, then decode forward.
        container.seek(max(0, int(first / stream.time_base)), stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            if t < first - tolerance:
                continue
            if t > last + tolerance:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(t)
    if not frames:
        raise ValueError(f"{path}: no frame of {feature!r} between {first:.3f} s and {last:.3f} s")
    times_arr = np.asarray(times)
    order = np.argsort(times_arr, kind="stable")
    times_arr = times_arr[order]
    right = np.clip(np.searchsorted(times_arr, timestamps), 1, len(times_arr) - 1) if len(times_arr) > 1 else None
    if right is None:
        nearest = np.zeros(len(timestamps), dtype=np.int64)
    else:
        left = right - 1
        nearest = np.where(np.abs(times_arr[left] - timestamps) <= np.abs(times_arr[right] - timestamps), left, right)
    off = np.abs(times_arr[nearest] - timestamps)
    if (off > tolerance).any():
        worst = int(off.argmax())
        raise ValueError(f"{path}: no frame of {feature!r} within {tolerance:.4f} s of t={timestamps[worst]:.4f} s")
    return np.stack(frames)[order[nearest]]
