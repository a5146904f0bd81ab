import numpy as np
import torch

from fleetrl.policies.augment import random_shift


def coordinate_images(batch: int, h: int, w: int) -> torch.Tensor:
    """Channel 0 holds the row index, channel 1 the column index, channel 2 the image index."""
    rows = torch.arange(h).view(1, h, 1).expand(batch, h, w)
    cols = torch.arange(w).view(1, 1, w).expand(batch, h, w)
    ids = torch.arange(batch).view(batch, 1, 1).expand(batch, h, w)
    return torch.stack([rows, cols, ids], dim=-1).to(torch.uint8)


def test_shape_dtype_and_per_sample_shifts_within_pad():
    pad, h, w = 3, 12, 16
    images = coordinate_images(64, h, w)
    out = random_shift(images, pad, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    shifts = set()
    for n in range(64):
        # The centre pixel is never clamped for |shift| <= pad, so it reveals the shift.
        dy = int(out[n, h // 2, w // 2, 0]) - h // 2
        dx = int(out[n, h // 2, w // 2, 1]) - w // 2
        assert abs(dy) <= pad and abs(dx) <= pad
        expected_rows = np.clip(np.arange(h) + dy, 0, h - 1)
        expected_cols = np.clip(np.arange(w) + dx, 0, w - 1)
        np.testing.assert_array_equal(out[n, :, 0, 0].numpy(), expected_rows)  # replicated border
        np.testing.assert_array_equal(out[n, 0, :, 1].numpy(), expected_cols)
        assert (out[n, ..., 2] == n).all()  # each sample is cropped from itself
        shifts.add((dy, dx))
    assert len(shifts) > 10  # each sample draws its own shift


def test_pad_zero_is_identity():
    images = coordinate_images(4, 8, 8)
    assert random_shift(images, 0) is images


def test_float_images_and_seeded_reproducibility():
    images = torch.rand(8, 10, 10, 3)
    a = random_shift(images, 2, torch.Generator().manual_seed(5))
    b = random_shift(images, 2, torch.Generator().manual_seed(5))
    assert a.dtype == torch.float32
    torch.testing.assert_close(a, b)
