"""A learned success detector: camera frames -> p(success), and the reward it gives.

    model = SuccessClassifier(ClassifierConfig(cameras=("scene",), height=64, width=64))
    ...                                                    # trained by `train_classifier`
    model.save("runs/cube/success.pt")
    reward = ClassifierReward("runs/cube/success.pt")      # p(success) of next_obs["scene"]

The file is a torch file (loaded with `weights_only=True`: no pickled code) holding the format
name, the config (cameras, image size, layer widths, pixel normalisation, decision threshold)
and the weights, so a model loads without knowing how it was built.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fleetrl.core.errors import FleetrlError
from fleetrl.rewards.base import Observation, Reward

FORMAT = "fleetrl-success-classifier"
FORMAT_VERSION = 1
MODES = ("replace", "add")


class ClassifierFileError(FleetrlError, ValueError):
    """A classifier file cannot be used; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class ClassifierConfig:
    """What a `SuccessClassifier` takes and how it is built."""

    cameras: tuple[str, ...]
    """Camera names whose frames it reads (keys of a dict observation), each uint8 (H, W, 3)."""
    height: int
    """Frame height in pixels, the same for every camera."""
    width: int
    """Frame width in pixels."""
    channels: tuple[int, ...] = (16, 32, 32)
    """Widths of the 3x3 stride-2 conv layers of each camera's trunk."""
    hidden: int = 64
    """Features per camera before the shared logit layer."""
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    """Per-channel pixel mean (pixels scaled to [0, 1]) subtracted before the convs."""
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    """Per-channel pixel standard deviation the centred pixels are divided by."""
    threshold: float = 0.5
    """p(success) above which a frame is called a success (accuracy, precision and recall)."""

    def __post_init__(self) -> None:
        for name in ("cameras", "channels", "mean", "std"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.cameras:
            raise ValueError("cameras: at least one camera is needed")
        if self.height < 8 or self.width < 8:
            raise ValueError(f"image size {self.height}x{self.width}: at least 8x8 pixels")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean and std: three values each, std positive (got {self.mean}, {self.std})")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")


def _trunk(config: ClassifierConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    in_channels = 3
    for out_channels in config.channels:
        layers += [nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
        in_channels = out_channels
    layers.append(nn.Flatten())
    with torch.no_grad():
        flat = nn.Sequential(*layers)(torch.zeros(1, 3, config.height, config.width)).shape[-1]
    # Flatten, not pooling: where the object is in the frame is the whole question.
    return nn.Sequential(*layers, nn.Linear(flat, config.hidden), nn.ReLU(inplace=True))


class SuccessClassifier(nn.Module):
    """{camera: uint8 (B, H, W, 3)} -> (B,) logits of success, one trunk per camera (their
    features concatenated into one linear logit layer). Frames go in as stored; scaling and
    normalisation happen inside."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.trunks = nn.ModuleDict({camera: _trunk(config) for camera in config.cameras})
        self.logit = nn.Linear(config.hidden * len(config.cameras), 1)
        # From the config, not the state dict: the config is the one place they are stored.
        self.register_buffer("pixel_mean", torch.tensor(config.mean).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.std).view(1, 3, 1, 1) * 255.0, persistent=False)

    def forward(self, frames: Mapping[str, torch.Tensor]) -> torch.Tensor:
        features = []
        for camera in self.config.cameras:
            x = frames[camera].permute(0, 3, 1, 2).float()
            features.append(self.trunks[camera]((x - self.pixel_mean) / self.pixel_std))
        return self.logit(torch.cat(features, dim=-1)).squeeze(-1)

    def check_frames(self, frames: Mapping[str, Any], batched: bool) -> None:
        """ValueError naming the camera when `frames` lacks one or has the wrong shape or dtype."""
        want = (self.config.height, self.config.width, 3)
        for camera in self.config.cameras:
            if camera not in frames:
                raise ValueError(f"the classifier reads camera {camera!r}; the observation has {sorted(frames)}")
            shape, dtype = tuple(frames[camera].shape), frames[camera].dtype
            item = shape[1:] if batched else shape
            if item != want or dtype not in (np.uint8, torch.uint8):
                raise ValueError(
                    f"camera {camera!r}: frames of {item} {dtype}, the classifier was trained on uint8 {want}"
                )

    @torch.inference_mode()
    def predict(self, frames: Mapping[str, np.ndarray], batch_size: int = 256) -> np.ndarray:
        """p(success) (N,) float32 of N frames per camera, uint8 (N, H, W, 3) numpy arrays."""
        self.check_frames(frames, batched=True)
        n = len(frames[self.config.cameras[0]])
        out = np.empty(n, np.float32)
        for start in range(0, n, batch_size):
            batch = {c: torch.from_numpy(np.asarray(frames[c][start:start + batch_size])) for c in self.config.cameras}
            out[start:start + batch_size] = torch.sigmoid(self(batch)).numpy()
        return out

    def save(self, path: str | Path) -> Path:
        """Write config and weights to `path` atomically (a temporary file renamed over it)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": asdict(self.config),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
        }
        # Not mkstemp: its files are private (0600), and a model is read by other processes.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            torch.save(payload, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> SuccessClassifier:
        """The model saved at `path`, in eval mode on the CPU. FileNotFoundError when there is no
        file; ClassifierFileError naming the problem when it is not a usable classifier file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises many types for a file it cannot read
            raise ClassifierFileError(f"{path}: not a readable torch file ({type(err).__name__}: {err})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ClassifierFileError(f"{path}: not a fleetrl success classifier (no format {FORMAT!r})")
        if payload.get("version") != FORMAT_VERSION:
            raise ClassifierFileError(f"{path}: format version {payload.get('version')}, this fleetrl reads {FORMAT_VERSION}")
        model = cls(_config_from(path, payload.get("config")))
        _check_weights(path, model, payload.get("state_dict"))
        model.load_state_dict(payload["state_dict"])
        return model.eval()


def _config_from(path: Path, raw: Any) -> ClassifierConfig:
    if not isinstance(raw, dict):
        raise ClassifierFileError(f"{path}: no config in the file")
    known = {f.name for f in fields(ClassifierConfig)}
    if unknown := sorted(set(raw) - known):
        raise ClassifierFileError(f"{path}: config has unknown keys {unknown}")
    try:
        return ClassifierConfig(**raw)
    except (TypeError, ValueError) as err:
        raise ClassifierFileError(f"{path}: config: {err}") from None


def _check_weights(path: Path, model: SuccessClassifier, state: Any) -> None:
    if not isinstance(state, dict):
        raise ClassifierFileError(f"{path}: no weights in the file")
    expected = model.state_dict()
    problems = [f"missing {key}" for key in expected if key not in state]
    problems += [f"unexpected {key}" for key in state if key not in expected]
    problems += [
        f"{key} has shape {tuple(state[key].shape)}, its config needs {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state and tuple(state[key].shape) != tuple(value.shape)
    ]
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise ClassifierFileError(f"{path}: weights do not match the config ({shown})")


class ClassifierReward(Reward):
    """p(success) of the step's resulting frames (`next_obs[camera]` for each of the model's
    cameras), times `weight`; with `threshold`, 1.0 when p > threshold else 0.0 (times `weight`).

    mode "replace": that is the reward. mode "add": the env's own reward (`info["task_reward"]`,
    which `RewardWrapper` provides) plus it. With `ends_episode` (and a threshold), the first
    step whose p(success) exceeds the threshold sets `verdict` True, which ends the episode under
    `RewardWrapper`: the classifier then also decides when the task is done, as it must on a real
    robot with no success test. One frame per call, no batching, on `device` (cpu, or cuda[:N]);
    the model is loaded once here and owned by this reward. A 64x64 frame takes about 0.3 ms with
    torch on one thread (as env workers run it); on a busy machine two torch threads waiting on
    each other made that tens of milliseconds.
    """

    verdict_source = "classifier"

    def __init__(
        self,
        model_path: str | Path,
        mode: str = "replace",
        weight: float = 1.0,
        threshold: float | None = None,
        ends_episode: bool = False,
        device: str = "cpu",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if threshold is not None and not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if ends_episode and threshold is None:
            raise ValueError("ends_episode needs a threshold")
        self.device = torch.device(device)
        self.model = SuccessClassifier.load(model_path).to(self.device)
        self.mode, self.weight, self.threshold, self.ends_episode = mode, float(weight), threshold, ends_episode
        self._checked = False

    def probability(self, next_obs: Observation) -> float:
        """p(success) of one observation (a dict holding the model's cameras)."""
        if not isinstance(next_obs, Mapping):
            raise ValueError("ClassifierReward needs dict observations with camera frames (obs_mode 'pixels')")
        if not self._checked:  # the observation layout does not change within an env
            self.model.check_frames(next_obs, batched=False)
            self._checked = True
        with torch.inference_mode():
            frames = {c: torch.from_numpy(np.asarray(next_obs[c]))[None].to(self.device) for c in self.model.config.cameras}
            return float(torch.sigmoid(self.model(frames))[0])

    def __call__(self, obs: Observation, action: np.ndarray, next_obs: Observation, info: Mapping[str, Any]) -> float:
        # A policy on state still gets a classifier reward: the env worker renders the cameras
        # for the reward alone and hands the frames over in info["frames"].
        cameras = self.model.config.cameras
        has_frames = isinstance(next_obs, Mapping) and all(c in next_obs for c in cameras)
        p = self.probability(next_obs if has_frames or "frames" not in info else info["frames"])
        sure = self.threshold is not None and p > self.threshold
        if sure and self.ends_episode and self.verdict is None:
            self.verdict = True
        value = self.weight * (float(sure) if self.threshold is not None else p)
        if self.mode == "add":
            if "task_reward" not in info:
                raise KeyError("ClassifierReward mode 'add' needs info['task_reward'] (RewardWrapper provides it)")
            value += float(info["task_reward"])
        return value
