"""Chunks for buffer tests: numbered transitions, so a test can tell exactly which ones it got."""

import numpy as np
import pytest

from fleetrl.core.transitions import SOURCE_ONLINE


def numbered_chunk(start: int, n: int, source: int = SOURCE_ONLINE, pixels: bool = False) -> dict:
    """Transitions start..start+n-1; transition i has reward i and obs filled with i."""
    ids = np.arange(start, start + n)
    chunk = {
        "action": np.tile(ids[:, None], (1, 4)).astype(np.float32) / 1e6,
        "reward": ids.astype(np.float32),
        "terminated": (ids % 7 == 0).astype(np.float32),
        "truncated": np.zeros(n, np.float32),
        "policy_version": ids.astype(np.int64),
        "robot": (ids % 3).astype(np.int64),
        "source": np.full(n, source, np.int8),
        "actor": np.full(n, 0 if source == SOURCE_ONLINE else 2, np.int8),
        "success": (np.arange(start, start + n) % 7 == 6).astype(np.float32),
    }
    if pixels:
        chunk["obs.state"] = np.tile(ids[:, None], (1, 8)).astype(np.float32)
        chunk["next_obs.state"] = chunk["obs.state"] + 1
        image = (ids % 256).astype(np.uint8)[:, None, None, None]
        chunk["obs.wrist"] = np.broadcast_to(image, (n, 16, 16, 3)).copy()
        chunk["next_obs.wrist"] = chunk["obs.wrist"] + 1
    else:
        chunk["obs"] = np.tile(ids[:, None], (1, 5)).astype(np.float32)
        chunk["next_obs"] = chunk["obs"] + 1
    return chunk


@pytest.fixture
def make_chunk():
    return numbered_chunk
