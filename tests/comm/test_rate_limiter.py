"""UpdateRateLimiter: the update-to-data ratio between acting and learning threads."""

import threading
import time

import pytest

from fleetrl.comm.rate_limiter import UpdateRateLimiter


def test_learner_waits_for_learning_starts_then_keeps_the_ratio():
    limiter = UpdateRateLimiter(utd_ratio=2, learning_starts=10)
    limiter.add_env_steps(10)
    assert not limiter.learner_may_update()
    limiter.add_env_steps(3)
    for _ in range(6):
        assert limiter.learner_may_update()
        limiter.add_updates()
    assert not limiter.learner_may_update()
    assert limiter.state_dict() == {"env_steps": 13, "updates": 6}


def test_actors_are_throttled_only_when_asked():
    free = UpdateRateLimiter(utd_ratio=1, learning_starts=0)
    free.add_env_steps(10**6)
    assert free.actor_may_step()
    limiter = UpdateRateLimiter(utd_ratio=0.5, learning_starts=100, max_env_steps_ahead=20)
    limiter.add_env_steps(120)
    assert limiter.actor_may_step()
    limiter.add_env_steps(1)
    assert not limiter.actor_may_step()
    limiter.add_updates(1)  # at utd 0.5 one update consumes two env steps
    assert limiter.actor_may_step()


def test_wait_for_learner_turn_times_out_and_wakes_on_new_data():
    limiter = UpdateRateLimiter(utd_ratio=1, learning_starts=0)
    started = time.monotonic()
    assert limiter.wait_for_learner_turn(timeout_s=0.1) is False
    assert time.monotonic() - started >= 0.09
    timer = threading.Timer(0.05, limiter.add_env_steps, args=(1,))
    timer.start()
    try:
        assert limiter.wait_for_learner_turn(timeout_s=5.0) is True
    finally:
        timer.cancel()


def test_actor_and_learner_threads_stay_in_proportion():
    limiter = UpdateRateLimiter(utd_ratio=2, learning_starts=50, max_env_steps_ahead=10)
    violations, stop = [], threading.Event()

    def actor():
        for _ in range(300):
            if not limiter.wait_for_actor_turn(timeout_s=5.0):
                violations.append("actor timed out")
                return
            limiter.add_env_steps(1)
        stop.set()

    def learner():
        while not stop.is_set() or limiter.learner_may_update():
            if limiter.wait_for_learner_turn(timeout_s=0.05):
                limiter.add_updates(1)
                state = limiter.state_dict()
                if state["updates"] > 2 * (state["env_steps"] - 50):
                    violations.append(state)

    threads = [threading.Thread(target=actor), threading.Thread(target=learner)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20.0)
    assert not any(t.is_alive() for t in threads) and not violations
    assert limiter.state_dict() == {"env_steps": 300, "updates": 500}


def test_close_releases_waiters():
    limiter = UpdateRateLimiter(utd_ratio=1, learning_starts=10)
    result = []
    waiter = threading.Thread(target=lambda: result.append(limiter.wait_for_learner_turn(timeout_s=10.0)))
    waiter.start()
    time.sleep(0.05)
    limiter.close()
    waiter.join(timeout=5.0)
    assert result == [False]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        UpdateRateLimiter(utd_ratio=0, learning_starts=0)
    with pytest.raises(ValueError):
        UpdateRateLimiter(utd_ratio=1, learning_starts=0, max_env_steps_ahead=-1)
