"""Recovery after kill -9: a writer process fills a buffer, is killed while writing, and every
transition it had acknowledged must come back, bit for bit (a part of `fleetrl bench buffer`).

    figures = measure_recovery(source, frames_file, cfg, workdir, drop_page_cache, console)

The writer (`recovery_writer`, a spawned process) writes uncompressed chunks with group commits,
so bytes on disk equal data bytes, and sends the parent every record it acknowledges. Once
`cfg["recovery_gb"]` are acknowledged, the parent kills it with SIGKILL at a random moment within
`KILL_WINDOW_S`, then times reopening the shard (`ShardWriter`, which runs crash recovery) and the
buffer (`PersistentReplay`, until its first batch), and reads acknowledged records back.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console

from fleetrl.bench.buffer_data import GB, Frames, TransitionSource, first_transition, same_chunk
from fleetrl.buffer.config import MB, CacheConfig, DurabilityConfig
from fleetrl.buffer.persistent import PersistentReplay
from fleetrl.buffer.segment import HEADER_SIZE
from fleetrl.buffer.shard_layout import SHARDS_DIR
from fleetrl.buffer.shard_reader import ShardReader
from fleetrl.buffer.shard_writer import ShardWriter
from fleetrl.core.errors import FleetrlError

KILL_WINDOW_S = 1.0  # the writer is killed at a uniform random moment this long after reaching its size
CHECK_RECORDS, CHECK_LAST = 200, 20  # acknowledged records read back bit for bit: random ones, the newest
STALL_S = 120.0  # the writer is given up on when it acknowledges nothing for this long


def _file_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def recovery_writer(conn, shard: str, frames_file: str, limit_bytes: int) -> None:
    """Child process: write uncompressed chunks to `shard` with group commits and send every
    acknowledged record to the parent as int64 rows (record id, first transition, n, payload bytes).
    Stops at `limit_bytes` or when the parent is gone; the parent normally kills it first."""
    source = TransitionSource(Frames.load(Path(frames_file)))
    parent_gone = False

    def report(committed) -> None:
        nonlocal parent_gone
        rows = [(record.record_id, first_transition(chunk), record.n, record.length) for record, chunk in committed]
        try:
            conn.send_bytes(np.asarray(rows, dtype=np.int64).tobytes())
        except OSError:
            parent_gone = True

    writer = ShardWriter(Path(shard), DurabilityConfig(mode="group"), compression="none", on_commit=report)
    number, written = 0, 0
    while written < limit_bytes and not parent_gone:
        chunk = source.chunk(number)
        writer.add(chunk)
        written += source.chunk_size * source.bytes_per_transition
        number += 1
    writer.close()


def _receive(conn, acked: dict[int, tuple[int, int]]) -> int:
    """Take the rows waiting in `conn` into `acked`; returns the payload bytes they add."""
    added = 0
    while conn.poll(0):
        try:
            rows = np.frombuffer(conn.recv_bytes(), dtype=np.int64).reshape(-1, 4)
        except EOFError:
            break
        for record_id, first, n, length in rows.tolist():
            acked[record_id] = (first, n)
            added += length + HEADER_SIZE
    return added


def fill_and_kill(shard: Path, frames_file: Path, target: int, seed: int, console: Console) -> dict:
    """Run `recovery_writer` until `target` acknowledged bytes, kill it at a random moment after."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=recovery_writer, args=(sender, str(shard), str(frames_file),
                                                          int(target * 1.5) + (2 << 30)), daemon=True)
    kill_delay = float(np.random.default_rng(seed).uniform(0.0, KILL_WINDOW_S))
    acked: dict[int, tuple[int, int]] = {}
    acked_bytes, first_ack, reached, progress = 0, None, None, time.perf_counter()
    child.start()
    sender.close()
    try:
        with console.status("recovery: writing") as status:
            while reached is None or time.perf_counter() - reached[0] < kill_delay:
                receiver.poll(0.05)
                added, now = _receive(receiver, acked), time.perf_counter()
                acked_bytes += added
                first_ack = first_ack or (now if added else None)
                progress = now if added else progress
                if reached is None and acked_bytes >= target:
                    reached = (now, acked_bytes)
                if not child.is_alive():
                    raise FleetrlError(f"bench buffer: the recovery writer exited ({child.exitcode}) before the kill")
                if now - progress > STALL_S:
                    raise FleetrlError(f"bench buffer: the recovery writer acknowledged nothing for {STALL_S:g} s")
                status.update(f"recovery: {acked_bytes / GB:.2f} of {target / GB:g} GB acknowledged")
            os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=30)
    while receiver.poll(1.0):  # what the writer sent before it died and was not read yet
        before = len(acked)
        acked_bytes += _receive(receiver, acked)
        if len(acked) == before:
            break  # end of file
    receiver.close()
    return {"acked": acked, "acked_bytes": acked_bytes, "kill_delay_s": kill_delay,
            "fill_s": reached[0] - first_ack, "fill_bytes": reached[1],  # from the first acknowledgement
            "killed_by_signal": -child.exitcode if child.exitcode and child.exitcode < 0 else None}


def check_acknowledged(shard: Path, acked: dict[int, tuple[int, int]], source: TransitionSource, seed: int) -> dict:
    """Is every acknowledged record present, and are some of them (random ones and the newest)
    bit-identical to what was written?"""
    reader = ShardReader(shard)
    try:
        present = {record.record_id: record for record in reader.refresh()}
        missing = [rid for rid, (_, n) in acked.items() if rid not in present or present[rid].n != n]
        ids = sorted(set(acked) - set(missing))
        rng = np.random.default_rng(seed)
        chosen = set(rng.choice(ids, size=min(CHECK_RECORDS, len(ids)), replace=False).tolist()) if ids else set()
        chosen |= set(ids[-CHECK_LAST:])
        damaged = []
        for rid in sorted(chosen):
            first, n = acked[rid]
            try:
                identical = same_chunk(reader.read(present[rid]), source.transitions(first, n))
            except Exception:  # noqa: BLE001 - a record that cannot be read back is lost
                identical = False
            if not identical:
                damaged.append(rid)
        present_transitions = reader.transitions()
    finally:
        reader.close()
    lost = sum(acked[rid][1] for rid in (*missing, *damaged))
    return {"present_records": len(present), "present_transitions": present_transitions,
            "checked_records": len(chosen), "identical_records": len(chosen) - len(damaged),
            "missing_records": missing[:20], "damaged_records": damaged[:20], "lost_transitions": lost}


def measure_recovery(source: TransitionSource, frames_file: Path, cfg: dict, workdir: Path,
                     drop_page_cache: Callable[[], str], console: Console) -> dict:
    """The recovery section of the benchmark. `drop_page_cache()` returns "dropped" or "warm"."""
    root = workdir / "recovery"
    shard = root / SHARDS_DIR / "main"
    target = int(cfg["recovery_gb"] * GB)
    console.log(f"recovery: a writer process fills {target / GB:g} GB on disk (uncompressed), then is killed")
    run = fill_and_kill(shard, frames_file, target, cfg["seed"], console)
    acked = run.pop("acked")
    on_disk = _file_bytes(shard)
    drop_page_cache()
    console.log("recovery: reopening the shard (ShardWriter: crash recovery)")
    start = time.perf_counter()
    writer = ShardWriter(shard, compression="none")
    recover_s = time.perf_counter() - start
    report = writer.recovery
    writer.close()
    page_cache_state = drop_page_cache()
    console.log("recovery: opening the buffer (PersistentReplay) and sampling its first batch")
    start = time.perf_counter()
    replay = PersistentReplay.open(root, compression="none", cache=CacheConfig(mb=cfg["cache_gb"] * GB / MB))
    try:
        replay.sample(cfg["batch_size"])
        ready_s = time.perf_counter() - start
    finally:
        replay.close()
    console.log("recovery: checking every acknowledged record")
    checks = check_acknowledged(shard, acked, source, cfg["seed"])
    if not cfg["keep"]:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "compression": "none", "target_disk_gb": cfg["recovery_gb"], "disk_bytes_at_kill": on_disk,
        "fill_s": run["fill_s"], "fill_mb_per_s": run["fill_bytes"] / run["fill_s"] / 1e6 if run["fill_s"] else None,
        "kill_delay_s": run["kill_delay_s"], "killed_by_signal": run["killed_by_signal"],
        "acknowledged_records": len(acked), "acknowledged_transitions": sum(n for _, n in acked.values()),
        "recover_s": recover_s, "recovery_scan_s": report.seconds,
        "recovered_unacknowledged_records": report.recovered_records, "torn_bytes": report.torn_bytes,
        "quarantined": report.quarantined, "open_ready_to_sample_s": ready_s, "page_cache": page_cache_state,
        **checks,
        "note": "kill -9 ends the writer, not the machine: bytes the kernel had taken survive it. Compression "
                "is off here so bytes on disk equal data bytes.",
    }
