import pytest

from fleetrl.hardware.pacing import Pacer


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_sleeps_to_the_grid_and_reports_exact_rate():
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        clock.now += 0.03  # 30 ms of work per step
        pacer.wait()
    report = pacer.report()
    assert report.steps == 10
    assert report.achieved_hz == pytest.approx(10.0)
    assert report.jitter_ms_p99 == pytest.approx(0.0, abs=1e-9)
    assert all(s == pytest.approx(0.07) for s in clock.sleeps)


def test_pacer_reanchors_after_falling_behind_instead_of_bursting():
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.5  # a stall of five periods
    pacer.wait()
    clock.now += 0.01
    pacer.wait()
    assert clock.sleeps[-1] == pytest.approx(0.09)  # waits a full period again, no burst
    assert pacer.report().jitter_ms_max == pytest.approx(400.0)


def test_real_clock_pacing_keeps_rate():
    pacer = Pacer(50.0)
    for _ in range(26):
        pacer.wait()
    report = pacer.report()
    assert report.achieved_hz == pytest.approx(50.0, rel=0.05)
