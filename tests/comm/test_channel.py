"""LocalChannel: backpressure, deadlines and close semantics."""

import threading
import time

import pytest

from fleetrl.comm.channel import ChannelClosed, LocalChannel
from fleetrl.core.errors import ChannelTimeout, FleetrlError


def test_items_come_out_in_order():
    channel = LocalChannel(3)
    for i in range(3):
        channel.put(i, timeout_s=1.0)
    assert channel.qsize() == 3
    assert [channel.get(timeout_s=1.0) for _ in range(3)] == [0, 1, 2]
    stats = channel.stats()
    assert (stats.items_put, stats.items_got, stats.qsize) == (3, 3, 0)


def test_a_full_channel_blocks_the_producer_until_its_deadline():
    channel = LocalChannel(2)
    channel.put("a", timeout_s=1.0)
    channel.put("b", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(ChannelTimeout, match="full"):
        channel.put("c", timeout_s=0.2)
    waited = time.monotonic() - started
    assert 0.18 <= waited < 2.0
    stats = channel.stats()
    assert stats.put_timeouts == 1 and stats.items_put == 2 and stats.qsize == 2
    assert 0.18 <= stats.put_blocked_s <= waited + 0.01


def test_blocked_time_measures_how_long_a_slow_consumer_held_producers_back():
    channel = LocalChannel(1)
    channel.put(0, timeout_s=1.0)
    got = []

    def slow_consumer():
        for _ in range(3):
            time.sleep(0.1)
            got.append(channel.get(timeout_s=2.0))

    consumer = threading.Thread(target=slow_consumer)
    consumer.start()
    for i in range(1, 3):
        channel.put(i, timeout_s=2.0)  # each waits ~0.1 s for the consumer to make room
    consumer.join(timeout=5.0)
    assert not consumer.is_alive() and got == [0, 1, 2]
    assert 0.15 <= channel.stats().put_blocked_s < 2.0


def test_get_on_an_empty_channel_times_out():
    channel = LocalChannel(1)
    started = time.monotonic()
    with pytest.raises(ChannelTimeout, match="empty"):
        channel.get(timeout_s=0.1)
    assert time.monotonic() - started >= 0.09
    assert channel.stats().get_timeouts == 1


def test_close_refuses_puts_drains_then_raises_closed():
    channel = LocalChannel(4)
    channel.put(1, timeout_s=1.0)
    channel.put(2, timeout_s=1.0)
    channel.close()
    channel.close()  # idempotent
    with pytest.raises(ChannelClosed):
        channel.put(3, timeout_s=1.0)
    assert [channel.get(timeout_s=1.0), channel.get(timeout_s=1.0)] == [1, 2]
    with pytest.raises(ChannelClosed):
        channel.get(timeout_s=1.0)
    assert issubclass(ChannelClosed, FleetrlError)


def test_close_wakes_blocked_producers_and_consumers():
    full, empty = LocalChannel(1), LocalChannel(1)
    full.put("x", timeout_s=1.0)
    outcomes = {}

    def attempt(name, call):
        try:
            call()
            outcomes[name] = "ok"
        except Exception as err:
            outcomes[name] = type(err)

    threads = [
        threading.Thread(target=attempt, args=("put", lambda: full.put("y", timeout_s=10.0))),
        threading.Thread(target=attempt, args=("get", lambda: empty.get(timeout_s=10.0))),
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    started = time.monotonic()
    full.close()
    empty.close()
    for t in threads:
        t.join(timeout=5.0)
    assert time.monotonic() - started < 2.0
    assert outcomes == {"put": ChannelClosed, "get": ChannelClosed}
