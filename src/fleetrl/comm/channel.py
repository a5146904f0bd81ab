"""An in-process channel: a bounded, thread-safe queue with deadlines and backpressure stats.

    channel = LocalChannel(capacity=8)
    channel.put(chunk, timeout_s=5.0)      # env worker: blocks while 8 items wait (backpressure)
    chunk = channel.get(timeout_s=5.0)     # buffer writer: blocks while empty
    channel.close()                        # producers stop; the consumer drains, then ChannelClosed

`stats().put_blocked_s` (seconds producers spent waiting for room) is the backpressure measure:
it grows when the consumer cannot keep up.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from fleetrl.core.errors import ChannelTimeout, FleetrlError
from fleetrl.core.interfaces import Channel


class ChannelClosed(FleetrlError):
    """The channel was closed: no more puts, and every item put before the close has been taken."""


@dataclass(frozen=True)
class ChannelStats:
    """Counters of a channel since it was made. Times in seconds."""

    items_put: int
    items_got: int
    put_blocked_s: float  # total time producers waited for room (timed-out waits included)
    put_timeouts: int
    get_timeouts: int
    qsize: int


class LocalChannel(Channel):
    """A FIFO of at most `capacity` items shared by threads of one process. Items are not copied."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: deque = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._put = self._got = self._put_timeouts = self._get_timeouts = 0
        self._put_blocked_s = 0.0

    def put(self, item, timeout_s: float) -> None:
        """Append `item`; wait at most `timeout_s` for room.

        Raises ChannelTimeout past the deadline and ChannelClosed once the channel is closed.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            if len(self._items) >= self.capacity and not self._closed:
                started = time.monotonic()
                try:
                    while len(self._items) >= self.capacity and not self._closed:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            self._put_timeouts += 1
                            raise ChannelTimeout(
                                f"put: channel full ({self.capacity} items) for {timeout_s:.3g} s"
                            )
                        self._cond.wait(remaining)
                finally:
                    self._put_blocked_s += time.monotonic() - started
            if self._closed:
                raise ChannelClosed("put on a closed channel")
            self._items.append(item)
            self._put += 1
            self._cond.notify_all()

    def get(self, timeout_s: float):
        """Remove and return the oldest item; wait at most `timeout_s` for one.

        Raises ChannelTimeout past the deadline, and ChannelClosed when the channel is closed and
        empty (items put before `close()` are still delivered).
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._items:
                if self._closed:
                    raise ChannelClosed("get on a closed, drained channel")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._get_timeouts += 1
                    raise ChannelTimeout(f"get: channel empty for {timeout_s:.3g} s")
                self._cond.wait(remaining)
            item = self._items.popleft()
            self._got += 1
            self._cond.notify_all()
            return item

    def close(self) -> None:
        """Refuse further puts and wake every waiter. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def qsize(self) -> int:
        """Items waiting now."""
        with self._cond:
            return len(self._items)

    def stats(self) -> ChannelStats:
        with self._cond:
            return ChannelStats(
                self._put, self._got, self._put_blocked_s, self._put_timeouts, self._get_timeouts, len(self._items)
            )
