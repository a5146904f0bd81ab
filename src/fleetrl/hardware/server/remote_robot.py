"""A robot served by a `RobotServer` on another process or host, driven like a local robot.

    robot = RemoteRobot.at("10.0.0.7:50051", token)      # or make_robot({"type": "remote", ...})
    with robot:
        obs = robot.reset(seed=0)
        applied = robot.send_action(action)               # clipped by the served robot

Every call has a deadline (`timeout_s`). `spec` is the served robot's, fetched on `connect()`
(or on first use before it). A non-finite or wrongly shaped action is refused here, before
anything is sent; the served robot clips the rest and the action it applied comes back. The
client's config `safety` is not used: the served robot enforces its own limits. Failures map to
fleetrl's errors: UNAUTHENTICATED -> `RobotAuthError`, ABORTED -> `RobotBusyError`, UNAVAILABLE,
DEADLINE_EXCEEDED and FAILED_PRECONDITION -> `RobotConnectionError`, INVALID_ARGUMENT ->
`UnsafeActionError`, anything else -> `RemoteRobotError`; each message names the server's address.

Each client names itself on every call (`lease.new_client_id()`), and the served robot takes
actions from the client that connected it only. `connect()` to a robot another client drives
waits up to `busy_wait_s` for it to be released (the server frees a robot whose holder has been
silent for its lease idle time, so a replaced worker gets its robot back), then raises
`RobotBusyError` naming the holder.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path
from typing import Any, Literal

import grpc
import numpy as np
from pydantic import Field

from fleetrl.core.errors import (
    ConfigError,
    FleetrlError,
    RobotAuthError,
    RobotBusyError,
    RobotConnectionError,
    UnsafeActionError,
)
from fleetrl.core.interfaces import Robot
from fleetrl.core.types import ACTION_DIM, Health, Observation, RobotSpec
from fleetrl.hardware.robot_config import RobotConfig
from fleetrl.hardware.safety import check_finite
from fleetrl.hardware.server import codec
from fleetrl.hardware.server import robot_pb2 as pb
from fleetrl.hardware.server import robot_pb2_grpc as pb_grpc
from fleetrl.hardware.server.auth import TOKEN_ENV, auth_metadata
from fleetrl.hardware.server.lease import CLIENT_KEY, new_client_id
from fleetrl.hardware.server.robot_server import GRPC_OPTIONS

log = logging.getLogger(__name__)

_CHANNEL_OPTIONS = GRPC_OPTIONS + [
    # Reconnect soon after a server restarts instead of backing off for up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


BUSY_RETRY_S = 1.0
"""Seconds between attempts to connect to a robot another client drives."""


class RemoteRobotError(FleetrlError, RuntimeError):
    """The served robot failed in a way that is not about the link or the action (gRPC INTERNAL)."""


class RemoteRobotConfig(RobotConfig):
    """Config of a robot reached through a robot server (`type: remote`)."""

    type: Literal["remote"] = Field("remote", description="Always 'remote'.")
    address: str = Field(pattern=r"^\S+:\d{1,5}$", description="The robot server's 'host:port'.")
    token_env: str = Field(TOKEN_ENV, description="Environment variable holding the server's token.")
    token: str | None = Field(
        None, repr=False, description="The server's token itself; prefer `token_env` to keep it out of files."
    )
    timeout_s: float = Field(5.0, gt=0, description="Deadline of each call to the server, seconds.")
    busy_wait_s: float = Field(
        40.0, ge=0, description="How long connect() waits for a robot another client drives to be released, seconds."
    )
    tls_ca: str | None = Field(
        None, description="PEM file of the CA (or self-signed certificate) behind the server's certificate; enables TLS."
    )


class RemoteRobot(Robot):
    """The client of one robot server; see the module docstring for its contract."""

    config_class = RemoteRobotConfig

    def __init__(self, config: RemoteRobotConfig) -> None:
        self.config = config
        self.address = config.address
        self.timeout_s = config.timeout_s
        token = config.token or os.environ.get(config.token_env, "")
        if not token:
            raise ConfigError(
                f"robot {config.robot_name()!r} at {config.address}: no token; set `token` or the "
                f"environment variable {config.token_env}"
            )
        self.client_id = new_client_id()
        self._metadata = auth_metadata(token) + ((CLIENT_KEY, self.client_id),)
        self._channel: grpc.Channel | None = None
        self._stub: pb_grpc.RobotStub | None = None
        self._spec: RobotSpec | None = None
        self._connected = False

    @classmethod
    def at(cls, address: str, token: str, timeout_s: float = 5.0) -> RemoteRobot:
        """The robot served at `address` ("host:port") to holders of `token`."""
        return cls(RemoteRobotConfig(type="remote", address=address, token=token, timeout_s=timeout_s))

    # -- the Robot interface -------------------------------------------------------------------

    @property
    def spec(self) -> RobotSpec:
        if self._spec is None:
            self._spec = codec.spec_from_message(self._rpc("GetSpec", pb.GetSpecRequest()))
        return self._spec

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if self._connected:
            return
        give_up = time.monotonic() + self.config.busy_wait_s
        for attempt in itertools.count():
            try:
                reply = self._rpc("Connect", pb.ConnectRequest())
                break
            except RobotBusyError as err:
                left = give_up - time.monotonic()
                if left <= 0:
                    raise
                if attempt == 0:
                    log.warning("%s; waiting up to %.0f s for it", err, left)
                time.sleep(min(BUSY_RETRY_S, left))
        self._spec = codec.spec_from_message(reply.spec)
        self._connected = True

    def disconnect(self) -> None:
        try:
            if self._connected:
                self._rpc("Disconnect", pb.DisconnectRequest())
        except FleetrlError as err:  # a dead link is already disconnected
            log.warning("disconnecting %s: %s", self.address, err)
        finally:
            self._connected = False
            self._close_channel()

    def reset(self, seed: int | None = None) -> Observation:
        self._require_connected()
        request = pb.ResetRequest() if seed is None else pb.ResetRequest(seed=int(seed))
        return codec.observation_from_message(self._rpc("Reset", request))

    def get_observation(self) -> Observation:
        self._require_connected()
        return codec.observation_from_message(self._rpc("GetObservation", pb.GetObservationRequest()))

    def send_action(self, action: np.ndarray) -> np.ndarray:
        self._require_connected()
        safe_to_send = check_finite(action)
        reply = self._rpc("SendAction", pb.ActionRequest(action=codec.action_to_list(safe_to_send)))
        applied = codec.action_from_list(reply.applied)
        if applied.shape != (ACTION_DIM,):
            raise RemoteRobotError(f"robot server {self.address} returned an applied action of shape {applied.shape}")
        return applied

    def served_health(self) -> Health:
        """The served robot's own health, whether or not this client is connected; never raises.

        Unlike `connect()`/`disconnect()`, this does not touch the served robot, so a listing can
        check an arm that a learner is driving without disturbing it.
        """
        start = time.perf_counter()
        try:
            reply = self._rpc("Health", pb.HealthRequest())
        except Exception as err:  # never raises: an unreachable server is "down"
            return Health("down", str(err), _ms_since(start))
        served = codec.health_from_message(reply)
        return Health(served.status, served.detail, _ms_since(start))

    def health(self) -> Health:
        served = self.served_health()
        if not self._connected and served.status != "down":
            detail = f"not connected to {self.address} (server reports {served.status})"
            return Health("disconnected", detail, served.latency_ms)
        return served

    def __repr__(self) -> str:
        state = "connected" if self._connected else "not connected"
        return f"RemoteRobot({self.address!r}, {state})"

    # -- the wire ------------------------------------------------------------------------------

    def _require_connected(self) -> None:
        if not self._connected:
            raise RobotConnectionError(f"remote robot at {self.address} is not connected; call connect() first")

    def _get_stub(self) -> pb_grpc.RobotStub:
        if self._stub is None:
            if self.config.tls_ca:
                ca = _read_ca(self.config.tls_ca)
                creds = grpc.ssl_channel_credentials(root_certificates=ca)
                self._channel = grpc.secure_channel(self.address, creds, options=_CHANNEL_OPTIONS)
            else:
                self._channel = grpc.insecure_channel(self.address, options=_CHANNEL_OPTIONS)
            self._stub = pb_grpc.RobotStub(self._channel)
        return self._stub

    def _close_channel(self) -> None:
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            channel.close()

    def _rpc(self, method: str, request: Any) -> Any:
        """Call `method` with the token and the deadline; raise fleetrl's error for a failure."""
        call = getattr(self._get_stub(), method)
        try:
            return call(request, timeout=self.timeout_s, metadata=self._metadata)
        except grpc.RpcError as err:
            raise self._translate(method, err) from err

    def _translate(self, method: str, err: grpc.RpcError) -> FleetrlError:
        code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
        details = (err.details() if isinstance(err, grpc.Call) else str(err)) or code.name
        where = f"robot server {self.address}"
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return RobotAuthError(
                f"{where} refused the token on {method}: {details} (check `token` or {self.config.token_env})"
            )
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return RobotConnectionError(f"{where} did not answer {method} within its {self.timeout_s:g} s deadline")
        if code == grpc.StatusCode.UNAVAILABLE:
            return RobotConnectionError(
                f"{where} unavailable on {method} (deadline {self.timeout_s:g} s): {details}"
            )
        if code == grpc.StatusCode.ABORTED:
            return RobotBusyError(f"{where}: {details}")
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            return RobotConnectionError(f"{where}: {details}")
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return UnsafeActionError(f"{where}: {details}")
        return RemoteRobotError(f"{where}: {method} failed ({code.name}): {details}")


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _read_ca(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"tls_ca {path}: cannot read: {err.strerror or err}") from err
