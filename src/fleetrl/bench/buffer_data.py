"""Test data for `fleetrl bench buffer`: pixel transitions built from real simulator frames.

    frames = render_frames()                        # a few dozen 128x128 wrist frames of a moving arm
    source = TransitionSource(frames)
    chunk = source.chunk(7)                         # transitions 224..255, as an env worker sends them
    first_transition(chunk)                         # 224, read back from the images themselves

Random noise would be the wrong test: it does not compress, and simulator frames (flat-shaded,
mostly static background) do. The frames come from the simulated Panda's wrist camera while the
arm moves, rendered once; transitions cycle through them, and every transition carries its id in
the first 8 bytes of both images, so no two are identical and any record read back can be checked
bit for bit against `source.chunk(...)` rebuilt from that id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleetrl.core.transitions import SOURCE_ONLINE

GB = 1e9  # the benchmark's sizes are decimal gigabytes
CHUNK_SIZE = 32  # transitions per chunk, as an env worker's ChunkBuilder sends them
EPISODE_STEPS = 100  # steps per episode (10 s at 10 Hz, like PegInsertion)
IMAGE_SIZE = 128
MARKER_BYTES = 8  # a transition's id, little-endian, in the first bytes of each of its images


@dataclass(frozen=True)
class Frames:
    """Consecutive simulator readings of one moving arm."""

    images: np.ndarray  # (F, 128, 128, 3) uint8, the wrist camera
    state: np.ndarray  # (F, 8) float32: ee_pos (3), ee_quat (4), gripper (1)
    action: np.ndarray  # (F, 7) float32: the action taken after each reading

    def save(self, path: Path) -> None:
        np.savez(path, images=self.images, state=self.state, action=self.action)

    @classmethod
    def load(cls, path: Path) -> Frames:
        with np.load(path) as data:
            return cls(data["images"], data["state"], data["action"])


def render_frames(count: int = 48, size: int = IMAGE_SIZE, seed: int = 0) -> Frames:
    """`count` wrist-camera frames of the simulated Panda wandering over the PickCube table.

    Renders one camera only (about 10 ms a frame on one core): the cheapest way to real frames.
    """
    from fleetrl.hardware.registry import make_robot

    camera = {"name": "wrist", "height": size, "width": size, "mount": "wrist"}
    robot = make_robot({"type": "sim_panda", "scene": "pick_cube", "paced": False, "cameras": [camera]})
    rng = np.random.default_rng(seed)
    scale = np.array([0.03, 0.03, 0.02, 0.0, 0.0, 0.0, 1.0])
    images, state, action = [], [], []
    with robot:
        obs = robot.reset(seed=seed)
        for _ in range(count):
            act = rng.uniform(-1.0, 1.0, 7) * scale
            images.append(obs.images["wrist"])
            state.append(obs.proprio())
            action.append(act.astype(np.float32))
            robot.send_action(act)
            obs = robot.get_observation()
    return Frames(np.stack(images), np.stack(state), np.stack(action))


class TransitionSource:
    """Transition g is step g % 100 of episode g // 100; chunk c holds transitions 32c .. 32c+31.

    Chunks cross episode boundaries, as a worker's chunks do. Frames are cycled with a per-episode
    shift; next_obs is the next frame of the cycle. Every call builds new arrays, so a chunk handed
    to a buffer is never changed afterwards.
    """

    def __init__(self, frames: Frames, chunk_size: int = CHUNK_SIZE, episode_steps: int = EPISODE_STEPS) -> None:
        self.frames, self.chunk_size, self.episode_steps = frames, chunk_size, episode_steps

    def transitions(self, first: int, n: int) -> dict[str, np.ndarray]:
        """Transitions first .. first+n-1 as one chunk (flat chunk keys)."""
        ids = np.arange(first, first + n, dtype=np.int64)
        episode, step = ids // self.episode_steps, ids % self.episode_steps
        count = len(self.frames.images)
        now = (step + 11 * episode) % count
        after = (now + 1) % count
        chunk = {
            "obs.wrist": self.frames.images[now],
            "next_obs.wrist": self.frames.images[after],
            "obs.state": self.frames.state[now],
            "next_obs.state": self.frames.state[after],
            "action": self.frames.action[now],
            "reward": -np.linalg.norm(self.frames.state[after, :3], axis=1).astype(np.float32),
            "terminated": np.zeros(n, np.float32),
            "truncated": (step == self.episode_steps - 1).astype(np.float32),
            "policy_version": ids // 1000,
            "robot": episode % 4,
            "source": np.full(n, SOURCE_ONLINE, np.int8),
        }
        marker = ids.astype("<u8").view(np.uint8).reshape(n, MARKER_BYTES)
        for key in ("obs.wrist", "next_obs.wrist"):
            chunk[key].reshape(n, -1)[:, :MARKER_BYTES] = marker
        return chunk

    def chunk(self, number: int) -> dict[str, np.ndarray]:
        """Chunk `number` (0, 1, ...): transitions number*chunk_size onwards."""
        return self.transitions(number * self.chunk_size, self.chunk_size)

    @property
    def bytes_per_transition(self) -> int:
        """Decoded bytes of one transition (all arrays of a chunk row)."""
        return sum(v[0].nbytes for v in self.transitions(0, 1).values())

    def chunks_for(self, nbytes: float) -> int:
        """Whole chunks whose decoded size comes closest to `nbytes` without passing it (at least 1)."""
        return max(1, int(nbytes // (self.bytes_per_transition * self.chunk_size)))


def first_transition(chunk) -> int:
    """The id of a chunk's first transition, read from the marker in its first image."""
    image = np.ascontiguousarray(np.asarray(chunk["obs.wrist"])[0]).reshape(-1)
    return int(image[:MARKER_BYTES].view("<u8")[0])


def same_chunk(a, b) -> bool:
    """True when two chunks hold the same keys with bit-identical arrays (dtype and shape too)."""
    if set(a) != set(b):
        return False
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
            return False
    return True
