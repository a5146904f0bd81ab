"""`fleetrl demo` and `fleetrl bench robots` run end to end and write what they promise."""

import json
import subprocess
import sys

import pytest


def fleetrl(*args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "fleetrl.cli.main", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.smoke
def test_demo_solves_the_tasks_and_writes_frames(tmp_path):
    out = tmp_path / "demo"
    result = fleetrl("demo", "--scripted", "--episodes", "1", "--unpaced", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout.replace("\n", "")
    summary = json.loads((out / "summary.json").read_text())
    assert {(s["robot"], s["task"]) for s in summary} == {
        (r, t) for r in ("sim_panda", "sim_arx") for t in ("pick_cube", "peg_insertion")
    }
    assert all(s["success_rate"] == 1.0 for s in summary), summary
    pngs = list((out / "frames").rglob("*.png"))
    assert len(pngs) >= 8
    assert all((out / f"{s['robot']}_{s['task']}.png").stat().st_size > 1000 for s in summary)


@pytest.mark.smoke
def test_paced_demo_keeps_ten_hertz(tmp_path):
    result = fleetrl("demo", "--scripted", "--robots", "sim_arx", "--tasks", "pick_cube", "--episodes", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads((tmp_path / "summary.json").read_text())
    assert summary["paced_rate_hz"] == pytest.approx(10.0, rel=0.05)


@pytest.mark.smoke
def test_bench_robots_prints_json_with_every_measurement():
    result = fleetrl("bench", "robots", "--json", "--steps", "50", "--paced-steps", "10", "--robots", "sim_arx")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(r["robot"], r["obs"]) for r in report["unpaced"]] == [("sim_arx", "state"), ("sim_arx", "pixels")]
    assert all(r["steps_per_s"] > 0 for r in report["unpaced"])
    assert report["paced"][0]["achieved_hz"] == pytest.approx(10.0, rel=0.1)
    assert report["machine"]["cores"] >= 1
