"""Training a success classifier on labelled camera frames from buffers and demonstration files.

    data = load_labelled_frames([Path("runs/cube/buffer"), Path("demos/cube.npz")], "scene")
    result = train_classifier(data, Path("success.pt"), epochs=10, held_out=0.2, seed=0)
    result["accuracy"], result["precision"], result["recall"]      # on held-out episodes

A frame is a step's resulting image (`next_obs.<camera>`), labelled by the step's "success" field
(the task's success test of that state). Whole episodes are held out, never single frames:
neighbouring frames of one episode are near-duplicates, and a frame-level split would let the
held-out score reward memorising them. Training draws successes and failures equally often
(successes are rare in robot data) and shifts frames by a few pixels at random (DrQ).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fleetrl.core.errors import FleetrlError
from fleetrl.core.transitions import ACTOR_EXPERT, ACTOR_HUMAN, ACTOR_POLICY
from fleetrl.policies.augment import random_shift
from fleetrl.rewards.classifier import ClassifierConfig, SuccessClassifier

ACTORS = {ACTOR_POLICY: "policy", ACTOR_HUMAN: "human", ACTOR_EXPERT: "expert", -1: "unknown"}


class LabelError(FleetrlError, ValueError):
    """Frames or labels cannot be read from a source, or cannot train a classifier; says why."""


@dataclass(repr=False)
class LabelledFrames:
    """N labelled frames. Arrays are owned by this object; `subset` copies."""

    frames: dict[str, np.ndarray]
    """camera -> uint8 (N, H, W, 3): the step's resulting frame."""
    labels: np.ndarray
    """(N,) float32, 1.0 where the resulting state succeeded."""
    episodes: np.ndarray
    """(N,) int64 episode id, unique across all sources loaded together."""
    actors: np.ndarray
    """(N,) int8 who acted (`buffer.transitions.ACTOR_*`), -1 where the data does not say."""

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        shapes = {c: f.shape for c, f in self.frames.items()}
        return f"LabelledFrames({len(self)} frames {shapes}, {self.class_counts()}, {len(np.unique(self.episodes))} episodes)"

    @property
    def cameras(self) -> tuple[str, ...]:
        return tuple(self.frames)

    def subset(self, rows: np.ndarray) -> LabelledFrames:
        return LabelledFrames({c: f[rows] for c, f in self.frames.items()}, self.labels[rows],
                              self.episodes[rows], self.actors[rows])

    def class_counts(self) -> dict[str, int]:
        positives = int((self.labels > 0.5).sum())
        return {"success": positives, "failure": len(self) - positives}


class _Episodes:
    """Gives each step an episode id: one robot's steps run in order within a shard (or a .npz
    file) and an episode ends after a terminated or truncated step (as `scan.iter_episodes`)."""

    def __init__(self) -> None:
        self.next_id = 0
        self.open: dict[int, int] = {}  # robot -> id of its episode that has not ended yet

    def new_stream(self) -> None:
        self.open.clear()  # episodes do not continue across shards or files

    def ids(self, chunk: Mapping[str, np.ndarray]) -> np.ndarray:
        n = len(chunk["terminated"])
        ends = chunk["terminated"] > 0
        if "truncated" in chunk:
            ends = ends | (chunk["truncated"] > 0)
        robots = chunk["robot"] if "robot" in chunk else np.zeros(n, np.int64)
        out = np.empty(n, np.int64)
        for robot in np.unique(robots):
            rows = np.flatnonzero(robots == robot)
            segment = np.concatenate([[0], np.cumsum(ends[rows])[:-1]])  # episodes ended before each row
            first = self.open.pop(int(robot), None)
            segment_ids = self.next_id + np.arange(segment[-1] + 1)
            self.next_id += len(segment_ids)
            if first is not None:
                segment_ids[0] = first
            out[rows] = segment_ids[segment]
            if not ends[rows[-1]]:
                self.open[int(robot)] = int(out[rows[-1]])
        return out


def _chunks(source: Path):
    """(stream name, chunk) of a buffer folder or a .npz demonstration file."""
    from fleetrl.buffer.demos import DemoFileError, load_demos
    from fleetrl.buffer.scan import iter_chunks

    if source.is_dir():
        yield from ((shard, chunk) for shard, _, chunk in iter_chunks(source))
    elif source.is_file() and source.suffix == ".npz":
        try:
            chunk, _ = load_demos(source)
        except DemoFileError as err:
            raise LabelError(f"{source}: {err}") from None
        if not _stored_success(source):
            chunk.pop("success", None)  # load_demos fills in 0.0 (unknown) for older files: not a label
        yield source.name, chunk
    else:
        raise FileNotFoundError(f"{source}: neither a buffer folder nor a .npz demonstration file")


def _stored_success(path: Path) -> bool:
    """Whether the .npz file itself holds a "success" array (read from the archive's listing)."""
    with np.load(path, allow_pickle=False) as archive:
        return "success" in archive.files


def _labels(chunk: Mapping[str, np.ndarray], source: str, label_from_reward: bool) -> np.ndarray:
    if "success" in chunk:
        return (chunk["success"] > 0.5).astype(np.float32)
    if label_from_reward:
        return (chunk["reward"] > 0).astype(np.float32)
    raise LabelError(
        f"{source}: no 'success' field (recorded before success labels); "
        "pass --label-from-reward to label frames by reward > 0 instead"
    )


def load_labelled_frames(sources: Sequence[Path], camera: str | Sequence[str], label_from_reward: bool = False) -> LabelledFrames:
    """Every step's resulting frame (`next_obs.<camera>`) of `sources` (buffer folders or .npz
    demonstration files), labelled by its "success" field, or by reward > 0 with
    `label_from_reward` where a source has none. Several cameras: one frame of each per step.
    FileNotFoundError for a path that is neither; LabelError (naming the source) when a camera
    or the labels are missing."""
    stream = ((str(source), name, chunk) for source in map(Path, sources) for name, chunk in _chunks(source))
    return frames_from_chunks(stream, camera, label_from_reward)


def frames_from_chunks(
    chunks: Iterable[tuple[str, str, Mapping[str, np.ndarray]]],
    camera: str | Sequence[str],
    label_from_reward: bool = False,
) -> LabelledFrames:
    """`load_labelled_frames` on chunks already in memory: (source, stream, chunk) triples, where
    a stream is one shard or file (episodes do not continue from one stream to the next) and the
    source names it in errors."""
    cameras = [camera] if isinstance(camera, str) else list(camera)
    frames: dict[str, list[np.ndarray]] = {c: [] for c in cameras}
    labels, episodes, actors, sources = [], [], [], []
    counter, current = _Episodes(), None
    for source, stream, chunk in chunks:
        if (source, stream) != current:
            current = (source, stream)
            counter.new_stream()
            sources.append(source)
        for c in cameras:
            if f"next_obs.{c}" not in chunk:
                have = sorted(k.partition(".")[2] for k in chunk if k.startswith("next_obs."))
                raise LabelError(f"{source}: no camera {c!r} (cameras: {', '.join(have) or 'none'})")
            frames[c].append(chunk[f"next_obs.{c}"])
        labels.append(_labels(chunk, source, label_from_reward))
        episodes.append(counter.ids(chunk))
        n = len(chunk["terminated"])
        actors.append(chunk["actor"].astype(np.int8) if "actor" in chunk else np.full(n, -1, np.int8))
    if not labels:
        raise LabelError(f"no transitions in {', '.join(dict.fromkeys(sources)) or 'the sources given'}")
    shapes = {c: {f.shape[1:] for f in frames[c]} for c in cameras}
    if mixed := {c: sorted(s) for c, s in shapes.items() if len(s) > 1}:
        raise LabelError(f"frames of different sizes across sources: {mixed}")
    return LabelledFrames({c: np.concatenate(frames[c]) for c in cameras}, np.concatenate(labels),
                          np.concatenate(episodes), np.concatenate(actors))


def split_by_episode(data: LabelledFrames, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-out rows): a seeded share `held_out` of the episodes, drawn separately
    from episodes with and without a success frame, so both kinds are held out."""
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be in (0, 1), got {held_out}")
    ids, inverse = np.unique(data.episodes, return_inverse=True)
    if len(ids) < 2:
        raise LabelError(f"{len(ids)} episode: at least two are needed to hold one out")
    succeeded = np.zeros(len(ids), bool)
    np.logical_or.at(succeeded, inverse, data.labels > 0.5)
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for group in (ids[succeeded], ids[~succeeded]):
        count = round(held_out * len(group))
        if len(group) >= 2:
            count = min(max(count, 1), len(group) - 1)
        held.append(rng.permutation(group)[:count])
    mask = np.isin(data.episodes, np.concatenate(held))
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _pixel_stats(frames: Mapping[str, np.ndarray], rows: np.ndarray, rng: np.random.Generator,
                 sample: int = 2048) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of pixels in [0, 1], over a sample of `rows` of
    every camera (one normalisation for all cameras)."""
    picked = np.sort(rng.choice(rows, size=min(sample, len(rows)), replace=False))
    pixels = np.concatenate([f[picked].reshape(-1, 3) for f in frames.values()]).astype(np.float64) / 255.0
    return pixels.mean(0).tolist(), np.maximum(pixels.std(0), 1e-3).tolist()


def evaluate(model: SuccessClassifier, data: LabelledFrames, rows: np.ndarray | None = None) -> dict[str, Any]:
    """accuracy, precision and recall (None when undefined) at the model's threshold, and the
    class counts, of `data` (or of its `rows`)."""
    rows = np.arange(len(data)) if rows is None else np.asarray(rows)
    p = np.concatenate([np.empty(0, np.float32)] + [
        model.predict({c: f[part] for c, f in data.frames.items()}) for part in np.array_split(rows, max(1, len(rows) // 1024))
    ])
    predicted, actual = p > model.config.threshold, data.labels[rows] > 0.5
    true_pos = int((predicted & actual).sum())
    return {
        "accuracy": float((predicted == actual).mean()) if len(rows) else None,
        "precision": true_pos / int(predicted.sum()) if predicted.any() else None,
        "recall": true_pos / int(actual.sum()) if actual.any() else None,
        "threshold": model.config.threshold,
        "frames": {"success": int(actual.sum()), "failure": int((~actual).sum())},
    }


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("loss {task.fields[loss]:.3f}"),
                    TimeElapsedColumn(), console=console, transient=not console.is_terminal)


def fit(model: SuccessClassifier, data: LabelledFrames, rows: np.ndarray, epochs: int, seed: int, batch_size: int = 64,
        lr: float = 1e-3, shift: int = 4, console: Console | None = None) -> float:
    """Train `model` in place on `rows` of `data` for `epochs` passes of len(rows) class-balanced,
    shifted frames; returns the last epoch's mean loss. Progress is drawn on `console` (None: not
    shown). Batches are gathered from `data` as they are drawn: the training set is not copied."""
    positive = (data.labels[rows] > 0.5).astype(np.int64)
    counts = np.bincount(positive, minlength=2)
    if counts.min() == 0:
        missing = "success" if counts[1] == 0 else "failure"
        raise LabelError(f"no {missing} frames in the training episodes: the classifier cannot learn both classes")
    generator = torch.Generator().manual_seed(seed)
    weights = torch.from_numpy(1.0 / counts[positive])
    labels = torch.from_numpy(data.labels)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    with _progress(console or Console(quiet=True)) as progress:
        task = progress.add_task("train", total=epochs, loss=math.nan)
        for _ in range(epochs):
            order = torch.multinomial(weights, len(rows), replacement=True, generator=generator)
            total = 0.0
            for draw in order.split(batch_size):
                batch_rows = rows[draw.numpy()]
                batch = {c: random_shift(torch.from_numpy(f[batch_rows]), shift, generator) for c, f in data.frames.items()}
                loss = loss_fn(model(batch), labels[batch_rows])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.item() * len(draw)
            progress.update(task, advance=1, loss=total / len(rows))
    model.eval()
    return total / len(rows)


def train_classifier(
    data: LabelledFrames,
    out: Path,
    epochs: int = 10,
    held_out: float = 0.2,
    seed: int = 0,
    batch_size: int = 64,
    lr: float = 1e-3,
    shift: int = 4,
    sheet: Path | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Split `data` by episode, train a classifier on the training episodes, save it to `out`,
    and score it on the held-out ones. With `sheet`, also write a PNG of held-out frames and
    their p(success). Returns a JSON-ready dict: model, accuracy, precision, recall (held out),
    class_counts and episodes (train / held_out), actors, train_accuracy, seconds, settings."""
    started = time.perf_counter()
    train_rows, held_rows = split_by_episode(data, held_out, seed)
    torch.manual_seed(seed)
    mean, std = _pixel_stats(data.frames, train_rows, np.random.default_rng(seed))
    height, width = next(iter(data.frames.values())).shape[1:3]
    model = SuccessClassifier(ClassifierConfig(cameras=data.cameras, height=height, width=width, mean=mean, std=std))
    loss = fit(model, data, train_rows, epochs, seed, batch_size, lr, shift, console)
    path = model.save(out)
    scores, trained = evaluate(model, data, held_rows), evaluate(model, data, train_rows)
    result = {
        "model": str(path),
        "cameras": list(data.cameras),
        "image_size": [height, width],
        "accuracy": scores["accuracy"],
        "precision": scores["precision"],
        "recall": scores["recall"],
        "threshold": scores["threshold"],
        "class_counts": {"train": trained["frames"], "held_out": scores["frames"]},
        "episodes": {"train": len(np.unique(data.episodes[train_rows])), "held_out": len(np.unique(data.episodes[held_rows]))},
        "actors": {ACTORS.get(int(a), str(a)): int(n) for a, n in zip(*np.unique(data.actors, return_counts=True), strict=True)},
        "train_accuracy": trained["accuracy"],
        "final_loss": loss,
        "epochs": epochs,
        "held_out_fraction": held_out,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if sheet is not None:
        from fleetrl.rewards.sheet import prediction_sheet

        result["sheet"] = str(prediction_sheet(model, data.subset(held_rows), sheet, seed=seed))
    return result
