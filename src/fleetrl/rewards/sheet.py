"""A contact sheet of held-out frames with the classifier's p(success), to see what it learned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from fleetrl.rewards.classifier import SuccessClassifier
from fleetrl.viz.frames import contact_sheet, save_png

MIN_TILE_WIDTH = 128  # pixels: small frames are enlarged so the caption fits


def _tile(images: list[np.ndarray], p: float, label: float, threshold: float) -> np.ndarray:
    """One step's frames side by side, enlarged, captioned "p=0.93 y=1" in green when the
    prediction is right and red when it is wrong."""
    row = np.concatenate(images, axis=1)
    scale = max(1, -(-MIN_TILE_WIDTH // row.shape[1]))
    row = row.repeat(scale, axis=0).repeat(scale, axis=1)
    canvas = Image.fromarray(row)
    right = (p > threshold) == (label > 0.5)
    ImageDraw.Draw(canvas).text((3, 2), f"p={p:.2f} y={int(label > 0.5)}", fill=(0, 255, 0) if right else (255, 40, 40))
    return np.asarray(canvas)


def prediction_sheet(model: SuccessClassifier, data, path: Path, count: int = 16, seed: int = 0) -> Path:
    """Write a PNG of up to `count` frames of `data` (a `LabelledFrames`), half labelled success
    and half failure where there are enough, each captioned with p(success) and its label."""
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(data.labels > 0.5), np.flatnonzero(data.labels <= 0.5)
    take_pos = min(len(positives), max(count // 2, count - len(negatives)))
    rows = np.concatenate([rng.permutation(positives)[:take_pos], rng.permutation(negatives)[:count - take_pos]])
    if len(rows) == 0:
        raise ValueError("no frames for a prediction sheet")
    rows = np.sort(rows)
    picked = {c: data.frames[c][rows] for c in model.config.cameras}
    p = model.predict(picked)
    tiles = [_tile([picked[c][i] for c in model.config.cameras], float(p[i]), float(data.labels[row]), model.config.threshold)
             for i, row in enumerate(rows)]
    return save_png(contact_sheet(tiles, columns=4), path)
