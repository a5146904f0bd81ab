"""The tables `fleetrl bench buffer` prints: write, sample, recovery and goals (see `bench.buffer`)."""

from __future__ import annotations

from rich.table import Table

from fleetrl.bench.buffer_data import GB


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _write_table(rows: list[dict]) -> Table:
    out = Table(title="write (each for --seconds or --buffer-gb, whichever ends first; the closing commit counts)")
    for column in ("store", "durability", "compression", "durable", "transitions/s", "MB/s decoded",
                   "MB/s on disk", "ratio", "flush s"):
        out.add_column(column, justify="left" if column in ("store", "durability", "compression") else "right")
    for row in rows:
        head = (row["store"], row["durability"], row["compression"])
        if "skipped" in row:
            out.add_row(*head, row["skipped"], "", "", "", "", "")
            continue
        out.add_row(*head, "yes" if row["durable"] else "no", _num(row["transitions_per_s"], 0),
                    _num(row["decoded_mb_per_s"], 0), _num(row["disk_mb_per_s"], 0),
                    _num(row["compression_ratio"], 2), _num(row["flush_s"], 2))
    return out


def _sample_table(sample: dict, cfg: dict) -> Table:
    out = Table(title=f"sample: batches of {cfg['batch_size']} from {cfg['buffer_transitions']:,} transitions "
                      f"({cfg['buffer_gb']:g} GB), our cache {cfg['cache_gb']:g} GB ({cfg['buffer_to_cache']:.1f}x "
                      f"smaller), {cfg['seconds']:g} s each", caption=cfg["page_cache_note"])
    for column in ("store", "page cache", "batches/s", "transitions/s", "1st half", "2nd half", "cache hits",
                   "ours hot is"):
        out.add_column(column, justify="left" if column in ("store", "page cache") else "right")
    hot = sample["fleetrl_hot"]["batches_per_s"]
    for name, row in sample.items():
        if "skipped" in row:
            out.add_row(name, row["skipped"], *[""] * 6)
            continue
        hits = row.get("cache_hit_rate")
        out.add_row(name, row["page_cache"], _num(row["batches_per_s"], 2), _num(row["transitions_per_s"], 0),
                    _num(row["batches_per_s_first_half"], 2), _num(row["batches_per_s_second_half"], 2),
                    "" if hits is None else f"{hits:.0%}", f"{hot / row['batches_per_s']:.2f}x")
    return out


def _recovery_table(rec: dict) -> Table:
    out = Table(title=f"recovery after kill -9 of a {rec['disk_bytes_at_kill'] / GB:.2f} GB buffer (uncompressed)")
    out.add_column("figure")
    out.add_column("value", justify="right")
    for label, value in (
        ("acknowledged before the kill (transitions)", f"{rec['acknowledged_transitions']:,}"),
        ("present after recovery (transitions)", f"{rec['present_transitions']:,}"),
        ("lost (acknowledged, missing or not bit-identical)", f"{rec['lost_transitions']:,}"),
        ("records checked bit for bit / identical", f"{rec['checked_records']} / {rec['identical_records']}"),
        ("unacknowledged records recovered", str(rec["recovered_unacknowledged_records"])),
        ("torn bytes cut", f"{rec['torn_bytes']:,}"),
        ("seconds to recover (ShardWriter open)", f"{rec['recover_s']:.3f}"),
        ("seconds to open and sample a batch (PersistentReplay)", f"{rec['open_ready_to_sample_s']:.3f}"),
        ("killed after reaching the size (s)", f"{rec['kill_delay_s']:.2f}"),
    ):
        out.add_row(label, value)
    return out


def _goals_table(goals_: dict) -> Table:
    out = Table(title="goals")
    for column in ("goal", "value", "target", "met"):
        out.add_column(column, justify="left" if column == "goal" else "right")
    for name, goal in goals_.items():
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}[goal["met"]]
        if "ratio" not in goal:
            out.add_row(name, f"{goal['lost_transitions']:,} lost", f"{goal['target']} lost", met)
            continue
        target = "-" if goal["target"] is None else f">= {goal['target']:g}x"
        out.add_row(name, "-" if goal["ratio"] is None else f"{goal['ratio']:.2f}x", target, met)
    return out


def table(result: dict) -> Table:
    machine = result["machine"]
    dropped = "dropped" if result["settings"]["page_cache"]["dropped"] else "not dropped"
    out = Table.grid(padding=(1, 0))
    out.title = (f"fleetrl bench buffer on {machine['cpu']} ({machine['cores']} cores, {machine['ram_gb']:.0f} GB "
                 f"RAM, {machine['workdir_filesystem']}); page cache {dropped}")
    for part in (_write_table(result["write"]), _sample_table(result["sample"], result["settings"]),
                 _recovery_table(result["recovery"]), _goals_table(result["goals"])):
        out.add_row(part)
    return out
