"""Serving one robot over gRPC, so that learners and actors on other processes or hosts drive it.

    with RobotServer(FakeArm(FakeArmConfig()), token="s3cret") as server:   # start() ... stop()
        port = server.port                      # 127.0.0.1:<port> unless `host` says otherwise
        ...                                     # clients: RemoteRobot.at(f"127.0.0.1:{port}", "s3cret")

One robot per server. A robot is not thread safe, and some hold thread-bound resources (an
EGL/OpenGL renderer, a driver handle), so every call to it runs on one dedicated robot thread,
one call at a time. A call whose deadline passes while it waits its turn is refused with
DEADLINE_EXCEEDED and never reaches the robot: a stale action must not move an arm after its
sender gave up. Exceptions from the robot become status codes with their message kept:
`UnsafeActionError` -> INVALID_ARGUMENT, `RobotConnectionError` -> FAILED_PRECONDITION when the
robot is not connected and UNAVAILABLE when its link failed, anything else -> INTERNAL. The
server owns the robot while it serves: `stop()` disconnects it, on the robot thread.

One client drives the robot at a time (`RobotLease`): Connect makes the caller its holder, or is
refused with ABORTED naming the holder; Reset and SendAction from any other client are refused
with FAILED_PRECONDITION; a Disconnect from a client that does not hold the robot leaves it alone.
Spec, observation and health are served to every client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc

from fleetrl.core.errors import ConfigError, FleetrlError, RobotConnectionError, UnsafeActionError
from fleetrl.core.interfaces import Robot
from fleetrl.hardware.server import codec
from fleetrl.hardware.server import robot_pb2 as pb
from fleetrl.hardware.server import robot_pb2_grpc as pb_grpc
from fleetrl.hardware.server.auth import TokenAuthInterceptor
from fleetrl.hardware.server.lease import DEFAULT_IDLE_S, LeaseHeld, NotHolder, RobotLease, client_of

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Largest message either side accepts: several full-resolution camera frames per observation."""

GRPC_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]


class ServerStartError(FleetrlError, OSError):
    """A robot server could not listen on its address (port taken, bad host, bad TLS files)."""


def host_port(host: str, port: int) -> str:
    """`host:port`, with an IPv6 host in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class _Expired(Exception):
    """The call's deadline passed before its turn on the robot thread came."""


class RobotThread:
    """Runs callables on one dedicated thread, in order: the only thread that touches the robot."""

    def __init__(self) -> None:
        self._executor = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="robot")

    def submit(self, fn: Callable[[], T]) -> futures.Future[T]:
        return self._executor.submit(fn)

    def run(self, fn: Callable[[], T], timeout_s: float | None = None) -> T:
        """Run `fn` on the robot thread and return its result; `TimeoutError` after `timeout_s`."""
        return self.submit(fn).result(timeout=timeout_s)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class _RobotServicer(pb_grpc.RobotServicer):
    """The RPCs of one robot, each run on the robot thread."""

    def __init__(self, robot: Robot, thread: RobotThread, lease: RobotLease) -> None:
        self._robot = robot
        self._thread = thread
        self._lease = lease

    def _call(self, context: grpc.ServicerContext, fn: Callable[[], T]) -> T:
        def in_time() -> T:
            remaining = context.time_remaining()
            if not context.is_active() or (remaining is not None and remaining <= 0):
                raise _Expired
            return fn()

        future = self._thread.submit(in_time)
        try:
            return future.result(timeout=context.time_remaining())
        except Exception as err:
            code, message = self._status_of(err, future)
        # context.abort() raises a plain Exception, so it is called outside the try above.
        context.abort(code, message)
        raise AssertionError("unreachable: context.abort() raises")

    def _status_of(self, err: Exception, future: futures.Future[Any]) -> tuple[grpc.StatusCode, str]:
        if isinstance(err, _Expired) or (isinstance(err, futures.TimeoutError) and not future.done()):
            future.cancel()  # still queued: it never runs; already running: its result is dropped
            return grpc.StatusCode.DEADLINE_EXCEEDED, "deadline passed before the robot answered"
        if isinstance(err, futures.CancelledError):
            return grpc.StatusCode.UNAVAILABLE, "the robot server is stopping"
        if isinstance(err, LeaseHeld):
            return grpc.StatusCode.ABORTED, str(err)
        if isinstance(err, NotHolder):
            return grpc.StatusCode.FAILED_PRECONDITION, str(err)
        if isinstance(err, UnsafeActionError):
            return grpc.StatusCode.INVALID_ARGUMENT, str(err)
        if isinstance(err, RobotConnectionError):
            connected = self._robot.is_connected
            return (grpc.StatusCode.UNAVAILABLE if connected else grpc.StatusCode.FAILED_PRECONDITION), str(err)
        log.error("robot %s failed", self._robot.spec.name, exc_info=err)
        return grpc.StatusCode.INTERNAL, f"{type(err).__name__}: {err}"

    def GetSpec(self, request: pb.GetSpecRequest, context: grpc.ServicerContext) -> pb.RobotSpec:
        return self._call(context, lambda: codec.spec_to_message(self._robot.spec))

    def Connect(self, request: pb.ConnectRequest, context: grpc.ServicerContext) -> pb.ConnectReply:
        client = client_of(context.invocation_metadata())

        def connect() -> pb.ConnectReply:
            previous = self._lease.holder
            if self._lease.acquire(client):
                log.warning("%s: client %s takes over from %s, which made no call for %g s",
                            self._robot.spec.name, client, previous, self._lease.idle_s)
            try:
                self._robot.connect()
            except Exception:
                self._lease.release(client)
                raise
            return pb.ConnectReply(spec=codec.spec_to_message(self._robot.spec))

        return self._call(context, connect)

    def _as_holder(self, context: grpc.ServicerContext, fn: Callable[[], T]) -> T:
        """`fn` on the robot thread, for the client that holds the robot only."""
        client = client_of(context.invocation_metadata())

        def checked() -> T:
            self._lease.check(client)
            return fn()

        return self._call(context, checked)

    def Reset(self, request: pb.ResetRequest, context: grpc.ServicerContext) -> pb.Observation:
        seed = request.seed if request.HasField("seed") else None
        return self._as_holder(context, lambda: codec.observation_to_message(self._robot.reset(seed)))

    def GetObservation(self, request: pb.GetObservationRequest, context: grpc.ServicerContext) -> pb.Observation:
        return self._call(context, lambda: codec.observation_to_message(self._robot.get_observation()))

    def SendAction(self, request: pb.ActionRequest, context: grpc.ServicerContext) -> pb.ActionReply:
        action = codec.action_from_list(request.action)
        return self._as_holder(
            context, lambda: pb.ActionReply(applied=codec.action_to_list(self._robot.send_action(action)))
        )

    def Health(self, request: pb.HealthRequest, context: grpc.ServicerContext) -> pb.HealthReply:
        return self._call(context, lambda: codec.health_to_message(self._robot.health()))

    def Disconnect(self, request: pb.DisconnectRequest, context: grpc.ServicerContext) -> pb.DisconnectReply:
        client = client_of(context.invocation_metadata())

        def disconnect() -> pb.DisconnectReply:
            if self._lease.release(client):  # another client's robot is not this client's to stop
                self._robot.disconnect()
            return pb.DisconnectReply()

        return self._call(context, disconnect)


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{what} {path}: cannot read: {err.strerror or err}") from err


class RobotServer:
    """Serves `robot` on `host:port` (port 0 picks a free one) to clients holding `token`.

    TLS: give both `tls_cert` and `tls_key` (PEM files) for links that leave the machine;
    without them the server listens in plain text, which is only safe on localhost.
    `lease_idle_s`: seconds without a call after which the client driving the robot may be
    replaced by another that connects (see `RobotLease`).
    """

    def __init__(
        self,
        robot: Robot,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        max_workers: int = 4,
        lease_idle_s: float = DEFAULT_IDLE_S,
    ) -> None:
        if not token:
            raise ConfigError("a robot server needs a token: pass --token or set FLEETRL_ROBOT_TOKEN")
        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
        self.robot = robot
        self.host = host
        self._requested_port = port
        self._token = token
        self._tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
        self._max_workers = max_workers
        try:
            self.lease = RobotLease(lease_idle_s)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        self._thread: RobotThread | None = None
        self._server: grpc.Server | None = None
        self.port: int | None = None

    @property
    def address(self) -> str:
        """`host:port` as bound; valid after `start()`."""
        if self.port is None:
            raise RuntimeError("the robot server has not started")
        return host_port(self.host, self.port)

    @property
    def tls(self) -> bool:
        return self._tls is not None

    def start(self) -> int:
        """Start serving; return the bound port. Raises `ServerStartError` if it cannot listen."""
        if self._server is not None:
            assert self.port is not None
            return self.port
        credentials = None
        if self._tls is not None:
            cert, key = _read(self._tls[0], "TLS certificate"), _read(self._tls[1], "TLS key")
            credentials = grpc.ssl_server_credentials([(key, cert)])
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="robot-server"),
            interceptors=[TokenAuthInterceptor(self._token)],
            # Without this gRPC sets SO_REUSEPORT, and a second server on the same port would
            # silently share its clients: a client could end up driving the wrong robot.
            options=GRPC_OPTIONS + [("grpc.so_reuseport", 0)],
        )
        pb_grpc.add_RobotServicer_to_server(_RobotServicer(self.robot, self.robot_thread(), self.lease), server)
        address = host_port(self.host, self._requested_port)
        cannot = f"cannot listen on {address} (port in use, or not an address of this host)"
        try:
            if credentials is not None:
                port = server.add_secure_port(address, credentials)
            else:
                port = server.add_insecure_port(address)
        except RuntimeError as err:
            raise ServerStartError(f"{cannot}: {err}") from err
        if port == 0:  # older gRPC reports a failed bind this way instead of raising
            raise ServerStartError(cannot)
        server.start()
        self._server, self.port = server, port
        log.info("serving %s on %s", self.robot.spec.name, self.address)
        return port

    def robot_thread(self) -> RobotThread:
        """The thread every call to the robot runs on; use it to touch the robot from outside."""
        if self._thread is None:
            self._thread = RobotThread()
        return self._thread

    def connect_robot(self, timeout_s: float | None = None) -> None:
        """Connect the robot on the robot thread (so thread-bound resources are made there)."""
        self.robot_thread().run(self.robot.connect, timeout_s)

    def stop(self, grace_s: float = 1.0) -> None:
        """Stop accepting calls, let running ones finish for `grace_s` seconds, disconnect the robot."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace_s).wait(timeout=grace_s + 5.0)
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            thread.run(self.robot.disconnect, timeout_s=grace_s + 5.0)
        except Exception:  # a broken or hung driver must not block shutdown
            log.exception("disconnecting %s failed", self.robot.spec.name)
        thread.shutdown()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the server stops (or `timeout_s` passes); True if it stopped."""
        server = self._server
        if server is None:
            return True
        return bool(server.wait_for_termination(timeout=timeout_s))

    def __enter__(self) -> RobotServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.address if self.port is not None else "not started"
        return f"RobotServer({self.robot.spec.name!r}, {where}, tls={self.tls})"
