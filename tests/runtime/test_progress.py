"""The live view: plain summary lines off a terminal, a live table on one, no crash on sparse snapshots."""

import io

from rich.console import Console

from fleetrl.runtime.progress import LiveProgress

WORKERS = ["sim_panda#0", "sim_arx#1"]


def snapshot(steps):
    return {
        "env_steps": steps, "episodes": steps // 100, "success_rate": 0.25, "updates": steps // 2,
        "updates_per_s": 12.5, "env_steps_per_s": 40.0, "policy_version": 7, "staleness_mean": 1.5,
        "staleness_max": 4, "buffer_size": steps, "eval_success_rate": 0.4, "eval_return_mean": 2.0,
        "eval_env_steps": 800,
        "workers": {"sim_panda#0": {"state": "acting", "env_steps": steps // 2, "episodes": 3, "success_rate": 0.5},
                    "sim_arx#1": {"state": "restarting", "env_steps": steps // 2, "episodes": 2}},
    }


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_off_a_terminal_it_prints_plain_lines_every_log_interval():
    out, clock = io.StringIO(), FakeClock()
    console = Console(file=out, width=80)  # a file: not a terminal
    with LiveProgress(10_000, 600, WORKERS, log_every_s=5, console=console, clock=clock) as view:
        assert not view.interactive
        view.update(snapshot(1000))   # first update: a line right away
        clock.now += 1
        view.update(snapshot(1100))   # too soon: no line
        clock.now += 5
        view.update(snapshot(2000))   # due: a line
    text = out.getvalue()
    lines = text.splitlines()
    assert len(lines) == 3  # two periodic lines and the final one on exit
    assert "\x1b" not in text  # no colour or cursor codes in a log file
    assert lines[1].startswith("[0:06/10:00] env steps 2000/10000 (20.0%)")
    for part in ("40 steps/s", "updates 1000 (12.5/s)", "policy v7", "staleness 1.5/4", "buffer 2000",
                 "eval success 0.40", "workers 1 acting, 1 restarting"):
        assert part in lines[1], part


def test_on_a_terminal_it_draws_the_bar_and_the_tables():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    with LiveProgress(10_000, 600, WORKERS, log_every_s=1e9, console=console) as view:
        assert view.interactive
        view.update(snapshot(5000))
    text = out.getvalue()
    for part in ("env steps", "5000/10000", "sim_panda#0", "acting", "restarting", "policy v7",
                 "mean 1.5, max 4", "success 0.40, return 2.00 at 800 env steps"):
        assert part in text, part


def test_sparse_snapshots_and_unknown_workers_do_not_break_it():
    out = io.StringIO()
    with LiveProgress(100, 60, [], log_every_s=0, console=Console(file=out)) as view:
        view.update({})
        view.update({"env_steps": 500, "success_rate": float("nan"), "episodes": 0,
                     "workers": {"w": {"state": "down"}}})
    text = out.getvalue()
    assert "env steps 0/100" in text and "env steps 500/100" in text
    assert "success -" in text and "workers 1 down" in text


def test_the_view_stops_cleanly_when_training_raises():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    try:
        with LiveProgress(100, 60, WORKERS, console=console) as view:
            view.update(snapshot(10))
            raise RuntimeError("learner died")
    except RuntimeError:
        pass
    assert "env steps 10/100" in out.getvalue()
