"""Persistent replay buffer: write rate, sampling rate against four baselines, recovery after kill -9.

All in one run on this machine, on pixel transitions built from simulator frames (one 128x128x3
wrist camera, obs and next_obs, chunks of 32, episodes of 100 steps; see `bench.buffer_data`):

- write: transitions/s and MB/s (decoded and on disk) of our buffer with group commits for
  compression none, lz4 and zstd, with a commit per chunk, of LMDB (a synced transaction per chunk,
  the same encoded records) and of the baselines;
- sample: batches/s of 256 from a buffer of --buffer-gb with a cache of --cache-gb, ours in cache
  modes "hot", "exact" and "none" (every read from disk: (b) plain disk), against (a) everything in RAM,
  (c) TorchRL's LazyMemmapStorage and (d) per-trajectory torch.save files with a JSON index;
- recovery: a writer process fills --recovery-gb on disk and is killed with SIGKILL while writing;
  the time to reopen the buffer, and whether every acknowledged transition came back bit for bit.

GB here is 10^9 bytes. Disk-based stores are measured after dropping the page cache (as root).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import numpy as np
import psutil
from rich.console import Console

from fleetrl.bench.buffer_baselines import LmdbStore, PersistentStore, RamStore, Store, TorchRLMemmapStore, TrajectoryFileStore
from fleetrl.bench.buffer_data import GB, TransitionSource, render_frames
from fleetrl.bench.buffer_recovery import measure_recovery
from fleetrl.bench.buffer_tables import table  # noqa: F401  (the table `fleetrl bench` prints)
from fleetrl.bench.machine import machine_info
from fleetrl.buffer.codec import COMPRESSIONS
from fleetrl.buffer.config import MB, CacheConfig, CacheMode, DurabilityConfig
from fleetrl.core.arguments import positive_int
from fleetrl.core.errors import FleetrlError

SIZES = {"buffer_gb": 4.0, "cache_gb": 1.0, "recovery_gb": 10.0, "seconds": 10.0}
QUICK = {"buffer_gb": 0.06, "cache_gb": 0.015, "recovery_gb": 0.05, "seconds": 1.0}
RAM_SAFE_SHARE = 0.5  # of the RAM available at the start: the machine is shared, other stores need page cache
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)  # "none": no cache, every read from disk (plain disk)
PAGE_CACHE_NOTE = ("The page cache is dropped just before each window (as root); disk-based stores then warm it "
                   "as they read (compare the halves). Our cache is held to --cache-gb; the OS page cache is not.")
GOALS = {"hot_vs_ram": 0.5, "hot_vs_plain_disk": 10.0, "hot_vs_torchrl_memmap": 1.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    def size(name: str, what: str) -> None:
        parser.add_argument(f"--{name.replace('_', '-')}", type=_positive_float, default=None,
                            help=f"{what} (default {SIZES[name]:g}; with --quick {QUICK[name]:g})")

    size("buffer_gb", "decoded GB of transitions in the buffer that is sampled")
    size("cache_gb", "decoded GB our buffer holds in memory while sampling")
    size("recovery_gb", "GB on disk the killed writer fills before the kill (written uncompressed)")
    size("seconds", "wall time of each write and sampling measurement")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="transitions per sampled batch")
    parser.add_argument("--compression", choices=COMPRESSIONS, default="lz4",
                        help="our compression for the sampled buffer, the per-chunk commit and LMDB rows")
    parser.add_argument("--drop-caches", action=argparse.BooleanOptionalAction, default=None,
                        help="drop the OS page cache before each disk measurement (default: on when root)")
    parser.add_argument("--workdir", type=Path, default=None, help="where scratch data goes (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data instead of deleting it")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and ~1 s measurements (a smoke run)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every sampler and of the kill moment")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# -- machine state ---------------------------------------------------------------------------------


class PageCache:
    """Drops the OS page cache (echo 3 > /proc/sys/vm/drop_caches) when asked to and allowed to."""

    def __init__(self, wanted: bool | None, console: Console) -> None:
        self.requested = os.geteuid() == 0 if wanted is None else wanted
        self.enabled, self.error, self._console = self.requested, None, console

    def drop(self) -> str:
        """Write dirty pages out, then drop clean ones; returns "dropped" or "warm"."""
        os.sync()
        if not self.enabled:
            return "warm"
        try:
            with open("/proc/sys/vm/drop_caches", "w") as handle:
                handle.write("3")
        except OSError as err:
            self.enabled, self.error = False, str(err)
            self._console.log(f"[yellow]warning: cannot drop the page cache ({err}); disk reads may be served "
                              "from memory[/yellow]")
            return "warm"
        return "dropped"

    def summary(self) -> dict[str, Any]:
        return {"drop_requested": self.requested, "dropped": self.enabled, "error": self.error}


def disk_bytes(folder: Path) -> int:
    """Bytes allocated on disk under `folder` (sparse files count what they use)."""
    return sum(p.stat().st_blocks * 512 for p in Path(folder).rglob("*") if p.is_file())


def _filesystem(path: Path) -> str:
    best = max((p for p in psutil.disk_partitions(all=True) if str(path.resolve()).startswith(p.mountpoint)),
               key=lambda p: len(p.mountpoint), default=None)
    return "unknown" if best is None else f"{best.fstype} on {best.device}"


def _machine(workdir: Path) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {**machine_info(), "ram_gb": memory.total / GB, "ram_available_gb": memory.available / GB,
            "load_average_1min": os.getloadavg()[0], "workdir_filesystem": _filesystem(workdir)}


def _ram_refusal(nbytes: int) -> str | None:
    available = psutil.virtual_memory().available
    if nbytes <= RAM_SAFE_SHARE * available:
        return None
    return (f"skipped: {nbytes / GB:.1f} GB in RAM would exceed {RAM_SAFE_SHARE:.0%} of the "
            f"{available / GB:.1f} GB available; lower --buffer-gb")


def _remove(folder: Path | None, cfg: dict) -> None:
    """Delete a store's scratch folder once measured (unless --keep), so disk use peaks low."""
    if folder is not None and not cfg["keep"]:
        shutil.rmtree(folder, ignore_errors=True)


def _optional(make: Callable[[], Store]) -> Store | str:
    try:
        return make()
    except ImportError as err:
        return f"skipped: {err.name} is not installed (pip install 'fleetrl[bench]')"


# -- write -----------------------------------------------------------------------------------------


def time_writes(store: Store, source: TransitionSource, folder: Path | None, seconds: float, max_chunks: int) -> dict:
    """Write chunks for `seconds` (at most `max_chunks`), then close; the close (the last commit)
    counts. The time `os.sync` then takes (dirty pages a store left behind) is `flush_s`."""
    chunks, start = 0, time.perf_counter()
    while chunks < max_chunks and time.perf_counter() - start < seconds:
        store.write(source.chunk(chunks))
        chunks += 1
    store.close()
    elapsed = time.perf_counter() - start
    os.sync()
    flush_s = time.perf_counter() - start - elapsed
    transitions = chunks * source.chunk_size
    decoded = transitions * source.bytes_per_transition
    on_disk = disk_bytes(folder) if folder is not None else None
    return {"transitions": transitions, "seconds": elapsed, "transitions_per_s": transitions / elapsed,
            "decoded_mb_per_s": decoded / elapsed / 1e6, "disk_mb_per_s": on_disk and on_disk / elapsed / 1e6,
            "disk_bytes": on_disk, "compression_ratio": on_disk and decoded / on_disk,
            "durable": store.durable, "flush_s": flush_s}


def write_cases(compression: str, capacity: int, map_bytes: int, seed: int) -> list[tuple[dict, Callable]]:
    """(description, folder -> store) of every write measurement, in order."""
    ours = [({"store": "fleetrl", "durability": "group", "compression": c},
             lambda f, c=c: PersistentStore(f, c, DurabilityConfig(mode="group"))) for c in COMPRESSIONS]
    return [
        *ours,
        ({"store": "fleetrl", "durability": "chunk", "compression": compression},
         lambda f: PersistentStore(f, compression, DurabilityConfig(mode="chunk"))),
        ({"store": "lmdb", "durability": "chunk", "compression": compression},
         lambda f: LmdbStore(f, map_bytes, compression, seed)),
        ({"store": "ram", "durability": "none", "compression": "none"}, None),
        ({"store": "torchrl_memmap", "durability": "none", "compression": "none"},
         lambda f: TorchRLMemmapStore(f, capacity, seed)),
        ({"store": "torch_save", "durability": "none", "compression": "none"},
         lambda f: TrajectoryFileStore(f, seed)),
    ]


def measure_writes(source: TransitionSource, cfg: dict, workdir: Path, console: Console) -> list[dict]:
    max_chunks = source.chunks_for(cfg["buffer_gb"] * GB)
    capacity = max_chunks * source.chunk_size
    map_bytes = int(capacity * source.bytes_per_transition * 1.2) + (64 << 20)
    rows = []
    for case, make in write_cases(cfg["compression"], capacity, map_bytes, cfg["seed"]):
        label = " ".join(case.values())
        console.log(f"write: {label}, {cfg['seconds']:g} s or {cfg['buffer_gb']:g} GB")
        folder = workdir / f"write_{'_'.join(case.values())}"
        if make is None:  # RAM: no folder
            refusal = _ram_refusal(capacity * source.bytes_per_transition)
            store: Store | str = refusal or RamStore(capacity, cfg["seed"])
            folder = None
        else:
            store = _optional(lambda: make(folder))
        figures = {"skipped": store} if isinstance(store, str) else time_writes(
            store, source, folder, cfg["seconds"], max_chunks)
        rows.append({**case, **figures})
        _remove(folder, cfg)
    return rows


# -- sample ----------------------------------------------------------------------------------------


def _images(batch: dict) -> np.ndarray:
    return batch["obs"]["wrist"] if "obs" in batch else batch["obs.wrist"]


def time_sampling(store: Store, batch_size: int, seconds: float, warmup_s: float, page_cache: PageCache) -> dict:
    """Batches per second over `seconds`, after `warmup_s` of warm-up (at least one batch) and,
    when allowed, a drop of the page cache just before the window opens."""
    shape = _images(store.sample(batch_size)).shape
    if shape[0] != batch_size:
        raise FleetrlError(f"bench buffer: {store.name} returned a batch of {shape[0]}, not {batch_size}")
    warm_until = time.perf_counter() + warmup_s
    while time.perf_counter() < warm_until:
        store.sample(batch_size)
    cache_state = page_cache.drop()
    stamps, start = [], time.perf_counter()
    while not stamps or stamps[-1] < seconds:
        store.sample(batch_size)
        stamps.append(time.perf_counter() - start)
    elapsed, half = stamps[-1], stamps[-1] / 2
    first = sum(1 for t in stamps if t <= half)
    return {"batches": len(stamps), "seconds": elapsed, "batches_per_s": len(stamps) / elapsed,
            "transitions_per_s": len(stamps) * batch_size / elapsed,
            "batches_per_s_first_half": first / half, "batches_per_s_second_half": (len(stamps) - first) / half,
            "page_cache": cache_state}


def fill(store: Store, source: TransitionSource, chunks: int, label: str, console: Console) -> float:
    """Write chunks 0 .. chunks-1; returns the seconds it took."""
    start, shown = time.perf_counter(), 0.0
    with console.status(label) as status:
        for number in range(chunks):
            store.write(source.chunk(number))
            if time.perf_counter() - shown > 0.5:
                shown = time.perf_counter()
                status.update(f"{label}: {number / chunks:.0%}")
    return time.perf_counter() - start


def _wait_hot(store: PersistentStore, record_bytes: int, console: Console, limit_s: float = 900.0) -> float:
    """Wait until the hot set fills its memory (the slab of cache mode "hot"); returns the seconds it took."""
    cache, start = store.replay.hot.slab, time.perf_counter()
    with console.status("hot set filling") as status:
        while cache.would_fit(record_bytes):
            if time.perf_counter() - start > limit_s:
                raise FleetrlError(f"bench buffer: the hot set did not fill within {limit_s:g} s")
            status.update(f"hot set filling: {cache.nbytes / cache.max_bytes:.0%}")
            time.sleep(0.1)
    return time.perf_counter() - start


def sample_ours(root: Path, mode: str, cfg: dict, source: TransitionSource, page_cache: PageCache,
                console: Console, rotate_per_batch: float | None = None) -> dict:
    """Our buffer at `root`, opened read-only with cache mode `mode` (and, for "hot", a rotation
    rate other than the default when given), sampled."""
    rotation = {} if rotate_per_batch is None else {"rotate_per_batch": rotate_per_batch}
    cache = CacheConfig(mb=cfg["cache_gb"] * GB / MB, mode=mode, **rotation)
    page_cache.drop()  # the hot set (or the exact cache) starts from disk, not from the page cache
    store = PersistentStore(root, cache=cache, read_only=True, seed=cfg["seed"])
    try:
        record_bytes = source.chunk_size * source.bytes_per_transition
        fill_s = _wait_hot(store, record_bytes, console) if mode == "hot" else None
        before = store.replay.stats()
        figures = time_sampling(store, cfg["batch_size"], cfg["seconds"], cfg["warmup_s"], page_cache)
        after = store.replay.stats()
    finally:
        store.close()
    figures.update(cache_mode=mode, cache_hit_rate=after["buffer_cache_hit_rate"])
    if mode == "hot":
        loaded = after["buffer_records_loaded"] - before["buffer_records_loaded"]
        figures.update(hot_fill_s=fill_s, records_rotated_per_batch=loaded / max(figures["batches"], 1),
                       rotate_per_batch_configured=cache.rotate_per_batch)
    return figures


def _sample_baseline(name: str, make: Callable[[], Store], reopen: bool, cfg: dict, source: TransitionSource,
                     chunks: int, page_cache: PageCache, console: Console) -> dict:
    """Write the buffer into a baseline store and sample it (closed and made again first if `reopen`)."""
    store = _optional(make)  # imports torch and friends here, outside every timed part
    if isinstance(store, str):
        console.log(f"sample: {name} {store}")
        return {"skipped": store}
    console.log(f"sample: {name}: writing {chunks * source.chunk_size} transitions")
    build_s = fill(store, source, chunks, f"{name}: writing", console)
    if reopen:
        store.close()
        store = make()
    console.log(f"sample: {name}, {cfg['seconds']:g} s")
    try:
        figures = time_sampling(store, cfg["batch_size"], cfg["seconds"], cfg["warmup_s"], page_cache)
    finally:
        store.close()
    return {**figures, "build_s": build_s}


def measure_sampling(source: TransitionSource, cfg: dict, workdir: Path, page_cache: PageCache,
                     console: Console) -> dict:
    chunks = source.chunks_for(cfg["buffer_gb"] * GB)
    capacity, seed, out = chunks * source.chunk_size, cfg["seed"], {}
    refusal = _ram_refusal(capacity * source.bytes_per_transition)
    if refusal:
        console.log(f"sample: ram {refusal}")
        out["ram"] = {"skipped": refusal}
    else:
        out["ram"] = _sample_baseline("ram", lambda: RamStore(capacity, seed), False, cfg, source, chunks,
                                      page_cache, console)
    root = workdir / "sample_fleetrl"
    console.log(f"sample: fleetrl: writing {capacity} transitions ({cfg['compression']})")
    writer = PersistentStore(root, cfg["compression"])
    build_s = fill(writer, source, chunks, "fleetrl: writing", console)
    writer.close()
    for mode in CACHE_MODES:
        console.log(f"sample: fleetrl, cache mode {mode}, {cfg['seconds']:g} s")
        out[f"fleetrl_{mode}"] = {**sample_ours(root, mode, cfg, source, page_cache, console), "build_s": build_s}
    # The default rotation against four times as much: what faster mixing of the hot set costs.
    console.log(f"sample: fleetrl, cache mode hot, one record rotated per batch, {cfg['seconds']:g} s")
    out["fleetrl_hot_rotate1"] = {**sample_ours(root, "hot", cfg, source, page_cache, console, 1.0),
                                  "build_s": build_s}
    _remove(root, cfg)
    # TorchRL's lazy storage learns its layout from the first write, so it is sampled as written.
    for name, make, reopen in (
        ("torchrl_memmap", lambda folder: TorchRLMemmapStore(folder, capacity, seed), False),
        ("torch_save", lambda folder: TrajectoryFileStore(folder, seed), True),
    ):
        folder = workdir / f"sample_{name}"
        out[name] = _sample_baseline(name, lambda: make(folder), reopen, cfg, source, chunks, page_cache, console)
        _remove(folder, cfg)
    return out


# -- the run ---------------------------------------------------------------------------------------


def goals(sample: dict, recovery: dict) -> dict:
    """Ours "hot" against each goal's reference; `met` is None when the reference was skipped."""
    hot = sample["fleetrl_hot"]["batches_per_s"]

    def against(name: str, target: float | None) -> dict:
        rate = sample.get(name, {}).get("batches_per_s")
        ratio = hot / rate if rate else None
        met = None if ratio is None or target is None else ratio >= target
        return {"ours": "fleetrl_hot", "against": name, "ratio": ratio, "target": target, "met": met}

    lost = recovery["lost_transitions"]
    return {
        "hot_vs_ram": against("ram", GOALS["hot_vs_ram"]),
        "hot_vs_plain_disk": against("fleetrl_none", GOALS["hot_vs_plain_disk"]),
        "hot_vs_torchrl_memmap": against("torchrl_memmap", GOALS["hot_vs_torchrl_memmap"]),
        "hot_vs_torch_save": against("torch_save", None),
        "zero_acknowledged_lost": {"lost_transitions": lost, "target": 0, "met": lost == 0},
    }


def settings(args: argparse.Namespace) -> dict:
    """The run's sizes (--quick's where not given) and options."""
    sizes = QUICK if args.quick else SIZES
    cfg = {name: getattr(args, name) if getattr(args, name) is not None else sizes[name] for name in SIZES}
    cfg.update(batch_size=args.batch_size, compression=args.compression, seed=args.seed, keep=args.keep,
               quick=args.quick, warmup_s=0.2 if args.quick else 1.0)
    return cfg


def _check_space(cfg: dict, source: TransitionSource, workdir: Path) -> None:
    cache_bytes = cfg["cache_gb"] * GB
    if cache_bytes < source.chunk_size * source.bytes_per_transition:
        raise FleetrlError(f"bench buffer: --cache-gb {cfg['cache_gb']:g} holds less than one chunk of "
                           f"{source.chunk_size} transitions")
    # Peak use: the recovery buffer, or our sampled buffer beside one baseline's (each deleted once
    # measured); with --keep, everything: seven written stores, three sampled ones, the recovery buffer.
    stages = [cfg["recovery_gb"] * 1.1, cfg["buffer_gb"] * 2.1]
    need = (cfg["recovery_gb"] * 1.1 + cfg["buffer_gb"] * 10.5 if cfg["keep"] else max(stages)) * GB
    free = shutil.disk_usage(workdir).free
    if need > free:
        raise FleetrlError(f"bench buffer: needs about {need / GB:.1f} GB free under {workdir}, has {free / GB:.1f} GB")


def _data_rate(source: TransitionSource, chunks: int = 50) -> float:
    """MB/s at which test chunks are made (they are made inside the write loops: not the bottleneck)."""
    start = time.perf_counter()
    for number in range(chunks):
        source.chunk(number)
    return chunks * source.chunk_size * source.bytes_per_transition / (time.perf_counter() - start) / 1e6


def run(args: argparse.Namespace, console: Console) -> dict:
    cfg = settings(args)
    progress = Console(stderr=True)  # progress to stderr whatever the output: stdout is the JSON or the table
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="fleetrl-bench-buffer-", dir=args.workdir))
    page_cache = PageCache(args.drop_caches, progress)
    started = time.perf_counter()
    try:
        machine = _machine(workdir)
        progress.log("rendering simulator frames (wrist camera, moving arm)")
        frames = render_frames()
        frames_file = workdir / "frames.npz"
        frames.save(frames_file)
        source = TransitionSource(frames)
        _check_space(cfg, source, workdir)
        data_rate = _data_rate(source)
        write = measure_writes(source, cfg, workdir, progress)
        sample = measure_sampling(source, cfg, workdir, page_cache, progress)
        recovery = measure_recovery(source, frames_file, cfg, workdir, page_cache.drop, progress)
    finally:
        if args.keep:
            progress.log(f"scratch data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    buffer_chunks = source.chunks_for(cfg["buffer_gb"] * GB)
    return {
        "benchmark": "buffer", "machine": machine,
        "settings": {
            **{k: v for k, v in cfg.items() if k != "keep"}, "gb": "10^9 bytes", "workdir": str(workdir),
            "kept": args.keep, "page_cache": page_cache.summary(), "frames": len(frames.images),
            "image": list(frames.images.shape[1:]), "cameras": 1, "chunk_transitions": source.chunk_size,
            "episode_steps": source.episode_steps, "bytes_per_transition": source.bytes_per_transition,
            "buffer_transitions": buffer_chunks * source.chunk_size,
            "buffer_to_cache": buffer_chunks * source.chunk_size * source.bytes_per_transition / (cfg["cache_gb"] * GB),
            "data_mb_per_s": data_rate, "page_cache_note": PAGE_CACHE_NOTE, "wall_s": time.perf_counter() - started,
        },
        "write": write, "sample": sample, "recovery": recovery, "goals": goals(sample, recovery),
    }
