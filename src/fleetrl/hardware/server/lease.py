"""Who drives a served robot: one client at a time.

    lease = RobotLease(idle_s=30.0)
    lease.acquire("lab-pc:4121:9f3a")   # Connect: the robot is this client's (or LeaseHeld)
    lease.check("lab-pc:4121:9f3a")     # Reset, SendAction: only the holder moves the robot
    lease.release("lab-pc:4121:9f3a")   # Disconnect: True when this client held it

Two clients must never command one arm: their actions would interleave, and one client's
Disconnect would stop the robot under the other. Every client names itself in the metadata of its
calls (`CLIENT_KEY`); the first to connect holds the robot until it disconnects. A client that
dies without disconnecting cannot say so, so a holder that has made no call for `idle_s` seconds
may be replaced by the next client that connects (a replaced env worker, say). Until then others
are refused, with the holder named. Reading (spec, observation, health) needs no lease.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleetrl.hardware.server.auth import metadata_value

CLIENT_KEY = "x-fleetrl-client"
"""Call metadata naming the calling client (`new_client_id()`)."""

DEFAULT_IDLE_S = 30.0
"""Seconds without a call after which a holder may be replaced by a newly connecting client."""


def new_client_id() -> str:
    """A name for one client, unique across hosts and processes, readable in an error: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def client_of(metadata: Any) -> str:
    """The client named in a call's metadata ("" for a client that names none)."""
    return metadata_value(metadata, CLIENT_KEY) or ""


class LeaseError(Exception):
    """A call the lease refuses; the message says who holds the robot."""


class LeaseHeld(LeaseError):
    """Connect refused: another client drives the robot and has not been idle for `idle_s`."""


class NotHolder(LeaseError):
    """A call that moves the robot from a client that does not hold it."""


@dataclass
class _Holder:
    client: str
    since: float
    last_call: float


class RobotLease:
    """The one client allowed to move a served robot. Thread safe; times are `clock()` seconds."""

    def __init__(self, idle_s: float = DEFAULT_IDLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        if idle_s <= 0:
            raise ValueError(f"lease idle_s must be positive, got {idle_s}")
        self.idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._holder: _Holder | None = None

    @property
    def holder(self) -> str | None:
        with self._lock:
            return None if self._holder is None else self._holder.client

    def acquire(self, client: str) -> bool:
        """Make `client` the holder; True when it takes over from an idle holder. `LeaseHeld` while
        another client holds the robot and has called within `idle_s` seconds."""
        if not client:
            raise NotHolder(f"a client that drives the robot must name itself in '{CLIENT_KEY}' metadata")
        now = self._clock()
        with self._lock:
            held = self._holder
            if held is not None and held.client != client and now - held.last_call < self.idle_s:
                raise LeaseHeld(
                    f"robot busy: driven by client {held.client} for {now - held.since:.0f} s, last call "
                    f"{now - held.last_call:.1f} s ago; it is free once that client disconnects or makes no "
                    f"call for {self.idle_s:g} s"
                )
            took_over = held is not None and held.client != client
            if held is None or took_over:
                self._holder = _Holder(client, since=now, last_call=now)
            else:
                held.last_call = now
            return took_over

    def check(self, client: str) -> None:
        """Pass when `client` holds the robot (and note the call); else `NotHolder`."""
        now = self._clock()
        with self._lock:
            held = self._holder
            if held is None:
                raise NotHolder("no client holds the robot: call Connect first")
            if held.client != client:
                raise NotHolder(f"robot driven by another client ({held.client}); this client is not its holder")
            held.last_call = now

    def release(self, client: str) -> bool:
        """Free the robot if `client` holds it; True then. Anyone may release a robot nobody holds."""
        with self._lock:
            if self._holder is None:
                return True
            if self._holder.client != client:
                return False
            self._holder = None
            return True
