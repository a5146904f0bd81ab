"""Writing robot camera frames as PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def side_by_side(images: dict[str, np.ndarray], label: str = "") -> np.ndarray:
    """Camera images (H, W, 3) uint8 of equal height, left to right in name order, with a caption."""
    if not images:
        raise ValueError("no images to put side by side")
    row = np.concatenate([images[name] for name in sorted(images)], axis=1)
    if not label:
        return row
    canvas = Image.fromarray(row)
    ImageDraw.Draw(canvas).text((3, 2), label, fill=(255, 255, 0))
    return np.asarray(canvas)


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write a (H, W, 3) uint8 image; creates parent folders. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(image)).save(path)
    return path


def contact_sheet(images: list[np.ndarray], columns: int = 4) -> np.ndarray:
    """Tile equally sized (H, W, 3) images into a grid, row by row; blanks fill the last row."""
    if not images:
        raise ValueError("no images for a contact sheet")
    height, width, _ = images[0].shape
    rows = (len(images) + columns - 1) // columns
    sheet = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * height : (r + 1) * height, c * width : (c + 1) * width] = image
    return sheet
