"""numpy observations -> torch tensors: the one conversion policies and learners share."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch


def obs_to_tensors(obs, device: torch.device | str = "cpu") -> torch.Tensor | dict[str, torch.Tensor]:
    """An observation or a batch, as the env or the buffer gives it, as tensors on `device`.

    A dict keeps its keys and each array's dtype (uint8 camera frames stay uint8: encoders scale
    them); a vector becomes float32. Arrays are not copied when dtype and device allow it.
    """
    if isinstance(obs, Mapping):
        return {key: torch.as_tensor(np.asarray(value), device=device) for key, value in obs.items()}
    return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=device)
