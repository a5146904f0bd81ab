"""Random-shift image augmentation (DrQ): replicate-pad by `pad` pixels, crop back at random.

Applied by the learner to training batches only, never by a policy acting in the world.
"""

from __future__ import annotations

import torch


def replicate_pad(images: torch.Tensor, pad: int) -> torch.Tensor:
    """(B, H, W, C) -> (B, H + 2 pad, W + 2 pad, C), repeating the border pixels (any dtype)."""
    left, right = images[:, :, :1].expand(-1, -1, pad, -1), images[:, :, -1:].expand(-1, -1, pad, -1)
    images = torch.cat([left, images, right], dim=2)
    top, bottom = images[:, :1].expand(-1, pad, -1, -1), images[:, -1:].expand(-1, pad, -1, -1)
    return torch.cat([top, images, bottom], dim=1)


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by its own random integer offset in [-pad, pad] along each axis.

    `images` is (B, H, W, C), any dtype (uint8 frames straight from the buffer); the result has
    the same shape and dtype. Pixels shifted in from outside repeat the border. `pad=0` returns
    `images` itself. Vectorised: the crops are read through a strided view of all windows of
    the padded batch, so there is no loop over the batch.
    """
    if pad == 0:
        return images
    b, h, w, c = images.shape
    padded = replicate_pad(images, pad).contiguous()
    rng_device = generator.device if generator is not None else images.device
    corner = torch.randint(0, 2 * pad + 1, (2, b), generator=generator, device=rng_device).to(images.device)
    sb, sh, sw, sc = padded.stride()
    # windows[n, i, j] is the (H, W, C) crop of image n whose top-left corner is (i, j).
    windows = padded.as_strided((b, 2 * pad + 1, 2 * pad + 1, h, w, c), (sb, sh, sw, sh, sw, sc))
    return windows[torch.arange(b, device=images.device), corner[0], corner[1]]


def augment_images(obs, image_keys: tuple[str, ...], pad: int, generator: torch.Generator | None = None):
    """`obs` with a random shift applied to each camera frame named in `image_keys` (a new dict; the
    input is not changed); vector observations and `pad=0` pass through unchanged."""
    if pad == 0 or not image_keys or not isinstance(obs, dict):
        return obs
    obs = dict(obs)
    for key in image_keys:
        obs[key] = random_shift(obs[key], pad, generator)
    return obs
