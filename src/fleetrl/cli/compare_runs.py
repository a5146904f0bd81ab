"""Two or more runs' curves on one figure, for side-by-side comparisons in the README.

    python -m fleetrl.cli.compare_runs runs/rlpd runs/scratch --labels "RLPD, 20 demos" "no demos" \
        --out docs/results/rlpd_vs_scratch.png [--field eval_success_rate] [--json]

Reads each run folder's metrics.jsonl; draws `field` against wall time and env steps, one line per run, and
prints for each run when the field first reached each of 0.5 and 0.9 (or that it did not).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matplotlib.figure import Figure

from fleetrl.runtime.metrics import read_metrics

THRESHOLDS = (0.5, 0.9)


def first_reached(records: list[dict], field: str, threshold: float) -> dict | None:
    """The first record whose `field` is at least `threshold` (its wall time and env steps), or None."""
    for record in records:
        value = record.get(field)
        if isinstance(value, (int, float)) and value >= threshold:
            return {"wall_time_s": record["wall_time_s"], "env_steps": record["env_steps"]}
    return None


def summary(runs: list[Path], labels: list[str], field: str) -> list[dict]:
    out = []
    for run, label in zip(runs, labels, strict=True):
        records = read_metrics(run / "metrics.jsonl")
        values = [r[field] for r in records if isinstance(r.get(field), (int, float))]
        out.append({
            "run": str(run), "label": label, "field": field,
            "final": values[-1] if values else None, "best": max(values) if values else None,
            "wall_time_s": records[-1]["wall_time_s"] if records else None,
            "reached": {str(t): first_reached(records, field, t) for t in THRESHOLDS},
        })
    return out


def draw(runs: list[Path], labels: list[str], field: str, out: Path, title: str) -> Path:
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    axes = figure.subplots(1, 2)
    figure.suptitle(title)
    for ax, (x_key, x_label) in zip(axes, (("wall_time_s", "wall time (s)"), ("env_steps", "env steps"))):
        for run, label in zip(runs, labels, strict=True):
            points = [(r[x_key], r[field]) for r in read_metrics(run / "metrics.jsonl")
                      if isinstance(r.get(field), (int, float))]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", markersize=3, label=label)
        ax.set_xlabel(x_label)
        ax.set_ylabel(field.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleetrl.cli.compare_runs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders")
    parser.add_argument("--labels", nargs="+", help="one label per run (default: folder names)")
    parser.add_argument("--field", default="eval_success_rate", help="metrics field to draw")
    parser.add_argument("--title", default="", help="figure title")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    labels = args.labels or [run.name for run in args.runs]
    if len(labels) != len(args.runs):
        parser.error(f"{len(args.runs)} runs but {len(labels)} labels")
    for run in args.runs:
        if not (run / "metrics.jsonl").is_file():
            parser.error(f"{run}: no metrics.jsonl (not a run folder)")
    draw(args.runs, labels, args.field, args.out, args.title)
    result = summary(args.runs, labels, args.field)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for item in result:
            reached = ", ".join(
                f"{t}: " + (f"{r['wall_time_s']:.0f} s / {r['env_steps']} steps" if r else "not reached")
                for t, r in item["reached"].items()
            )
            print(f"{item['label']}: best {item['best']}, final {item['final']} ({reached})")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
