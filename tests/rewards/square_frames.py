"""A small labelled data set that takes looking to get right: is the red square inside the box?

Each episode has a target box (a grey outline) at its own place and a red square that wanders
towards it or away; success means the square lies wholly inside the box. Two distractor squares
(blue and green) go anywhere, inside the box too, and the background is noisy. Neighbouring
frames of an episode are near-duplicates, as in robot data.
"""

from __future__ import annotations

import numpy as np

SIZE = 32
BOX = 12  # side of the target box, pixels
SQUARE = 4  # side of the red and distractor squares


def _frame(rng, box, red, distractors) -> np.ndarray:
    image = rng.integers(60, 110, size=(SIZE, SIZE, 3)).astype(np.uint8)
    image[..., 0] += 30  # a brownish table
    y, x = box
    image[y, x:x + BOX] = image[y + BOX - 1, x:x + BOX] = 200
    image[y:y + BOX, x] = image[y:y + BOX, x + BOX - 1] = 200
    for (dy, dx), colour in distractors:
        image[dy:dy + SQUARE, dx:dx + SQUARE] = colour
    ry, rx = red
    image[ry:ry + SQUARE, rx:rx + SQUARE] = (220, 30, 30)
    return image


def inside(red, box) -> bool:
    return box[0] < red[0] and red[0] + SQUARE < box[0] + BOX - 1 and box[1] < red[1] and red[1] + SQUARE < box[1] + BOX - 1


def episodes(count: int, steps: int = 16, seed: int = 0, goal_share: float = 0.35) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` episodes of (frames uint8 (steps, 32, 32, 3), success float32 (steps,)); in about
    `goal_share` of them the red square heads for the box (so success frames are the rarer class)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        box = rng.integers(0, SIZE - BOX, size=2)
        red = rng.integers(0, SIZE - SQUARE, size=2).astype(float)
        goal = box + rng.integers(2, BOX - SQUARE - 1, size=2) if rng.random() < goal_share else rng.integers(0, SIZE - SQUARE, size=2)
        colours = [(40, 60, 220), (40, 200, 60)]
        distractors = [(rng.integers(0, SIZE - SQUARE, size=2), c) for c in colours]
        frames, labels = [], []
        for _ in range(steps):
            red += np.clip(goal - red, -2, 2) + rng.normal(0, 0.7, size=2)
            red = np.clip(red, 0, SIZE - SQUARE)
            r = red.round().astype(int)
            for i, (pos, c) in enumerate(distractors):
                distractors[i] = (np.clip(pos + rng.integers(-1, 2, size=2), 0, SIZE - SQUARE), c)
            frames.append(_frame(rng, box, r, distractors))
            labels.append(float(inside(r, box)))
        out.append((np.stack(frames), np.array(labels, np.float32)))
    return out


def chunk_of(frames: np.ndarray, labels: np.ndarray, camera: str = "wrist", robot: int = 0, end: str = "truncated") -> dict:
    """One episode as a chunk in the buffer's format, with a "success" field."""
    n = len(frames)
    ends = np.zeros(n, np.float32)
    ends[-1] = 1.0
    previous = np.concatenate([frames[:1], frames[:-1]])
    return {
        f"obs.{camera}": previous,
        f"next_obs.{camera}": frames,
        "obs.state": np.zeros((n, 2), np.float32),
        "next_obs.state": np.zeros((n, 2), np.float32),
        "action": np.zeros((n, 2), np.float32),
        "reward": labels.copy(),
        "terminated": ends if end == "terminated" else np.zeros(n, np.float32),
        "truncated": ends if end == "truncated" else np.zeros(n, np.float32),
        "policy_version": np.zeros(n, np.int64),
        "robot": np.full(n, robot, np.int64),
        "source": np.zeros(n, np.int8),
        "success": labels,
        "actor": np.zeros(n, np.int8),
    }
