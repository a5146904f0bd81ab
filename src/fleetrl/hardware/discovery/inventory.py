"""Listing a node's robots, like `nvidia-smi` lists GPUs: what each is, where, and its health.

    records = discover_robots(load_node_config("fleet.yaml"))
    for r in records:
        print(r.name, r.kind, r.dof, r.source, r.address, r.health["status"])

Three sources, in this order in the result:
- "local": robots in `robots:`, built with `make_robot`, connected, health-checked, disconnected.
- "server": robot servers in `servers:`, probed with `RemoteRobot` (token from `token` or the
  environment variable `token_env`): spec and health only, never connect/disconnect, so listing
  never disturbs a robot a learner is driving.
- "mdns": servers announced on the network (when `mdns.browse`), not already configured; probed
  with `$FLEETRL_ROBOT_TOKEN` when set, otherwise listed as "disconnected", "no token to probe".

A robot that cannot be built, reached or authenticated is listed as "down" with the reason; it is
never dropped and never stops the listing. Servers are probed concurrently, so the listing takes
about the largest `timeout_s` however many servers are dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from typing import Any

from fleetrl.core.errors import RobotAuthError
from fleetrl.core.interfaces import Robot
from fleetrl.core.types import CameraSpec, Health, RobotSpec
from fleetrl.hardware.discovery.mdns import Announcement, browse_robot_servers
from fleetrl.hardware.node_config import DEFAULT_TOKEN_ENV, NodeConfig, split_address
from fleetrl.hardware.registry import make_robot, robot_class
from fleetrl.hardware.robot_config import RobotConfig

SOURCES = ("local", "server", "mdns")
MDNS_PROBE_TIMEOUT_S = 2.0
"""Deadline of each call when probing a server found over mDNS, seconds."""
_GRACE_S = 0.5  # time allowed past a probe's own deadline before it is given up as unanswered

RemoteFactory = Callable[[str, str, float], Any]
"""Makes a client of one robot server: an object with `spec` and `served_health()`, like RemoteRobot."""
"""Builds an unconnected client robot from (address "host:port", token, timeout_s)."""
Browser = Callable[[float, Sequence[str] | None], list[Announcement]]


@dataclass
class RobotRecord:
    """One robot as listed: what it is, where it was found, and its health when probed.

    `cameras` holds {name, height, width, mount} dicts; `source` is "local", "server" or "mdns";
    `address` is the server's "host:port" (None for local robots); `health` is
    {status, ok, detail, latency_ms} as in `Health.to_dict`.
    """

    name: str
    kind: str
    dof: int
    cameras: list[dict[str, Any]]
    source: str
    address: str | None
    health: dict[str, Any]

    @property
    def ok(self) -> bool:
        """True when the robot answered healthy ("ok" or "degraded")."""
        return bool(self.health.get("ok"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_spec(cls, spec: RobotSpec, source: str, address: str | None, health: Health) -> RobotRecord:
        cameras = [cam.to_dict() for cam in spec.cameras]
        return cls(spec.name, spec.kind, spec.dof, cameras, source, address, health.to_dict())


def _timed_health(robot: Robot) -> Health:
    start = time.perf_counter()
    health = robot.health()
    if health.latency_ms is None:
        health = Health(health.status, health.detail, (time.perf_counter() - start) * 1000.0)
    return health


def probe_local(config: RobotConfig) -> RobotRecord:
    """Build, connect, health-check and disconnect one local robot; failures become "down"."""
    try:
        robot = make_robot(config)
    except Exception as err:  # a broken driver must not hide the other robots
        cameras = [cam.to_spec().to_dict() for cam in getattr(config, "cameras", [])]
        health = Health("down", f"cannot build robot: {type(err).__name__}: {err}")
        return RobotRecord(config.robot_name(), config.type, 0, cameras, "local", None, health.to_dict())
    try:
        robot.connect()
        health = _timed_health(robot)
    except Exception as err:
        health = Health("down", f"connect failed: {type(err).__name__}: {err}")
    finally:
        try:
            robot.disconnect()
        except Exception:  # disconnect must not raise, but a listing never trusts a driver
            pass
    return RobotRecord.from_spec(robot.spec, "local", None, health)


def default_remote_factory(address: str, token: str, timeout_s: float) -> Robot:
    """`RemoteRobot.at(address, token, timeout_s)`, imported only when a server is probed."""
    return robot_class("remote").at(address, token, timeout_s)


@dataclass(frozen=True)
class _Target:
    """A server to probe, with what is known about it before it answers."""

    address: str
    token: str | None
    timeout_s: float
    source: str
    name: str
    kind: str = "remote"
    dof: int = 0
    cameras: tuple[CameraSpec, ...] = ()

    def record(self, health: Health) -> RobotRecord:
        cameras = [cam.to_dict() for cam in self.cameras]
        return RobotRecord(self.name, self.kind, self.dof, cameras, self.source, self.address, health.to_dict())


def probe_server(target: _Target, factory: RemoteFactory) -> RobotRecord:
    """Read one robot server's spec and health without connecting; failures become "down".

    The probe never calls connect() or disconnect(): on a robot server those reach the served
    robot, and a listing must not connect an idle arm or disconnect one a learner is driving.
    The spec call checks the token (a refused one is reported as "refused token").
    """
    if not target.token:
        return target.record(Health("disconnected", "no token to probe"))
    try:
        # The client's channel is released when the client is collected (disconnect() would tell
        # the server to disconnect its robot).
        robot = factory(target.address, target.token, target.timeout_s)
        spec = robot.spec
        health = robot.served_health()
        return RobotRecord.from_spec(spec, target.source, target.address, health)
    except RobotAuthError as err:
        return target.record(Health("down", f"refused token: {err}"))
    except Exception as err:
        return target.record(Health("down", f"unreachable at {target.address}: {err}"))


def _gather(targets: list[_Target], factory: RemoteFactory) -> list[RobotRecord]:
    """Probe `targets` at once, one thread each; a probe unanswered past its deadline is "down".

    A late probe is left to finish in its thread (its own deadline ends it); it never holds the
    listing up.
    """
    if not targets:
        return []
    pool = ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="robot-probe")
    try:
        futures = [pool.submit(probe_server, target, factory) for target in targets]
        deadline = time.monotonic() + max(t.timeout_s for t in targets) + _GRACE_S
        records = []
        for target, future in zip(targets, futures):
            try:
                records.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except FutureTimeout:
                records.append(target.record(Health("down", f"no answer within {target.timeout_s:g} s")))
        return records
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def normalize_address(address: str) -> str:
    """An address in the form used to compare servers: lower-case host, localhost as 127.0.0.1."""
    try:
        host, port = split_address(address)
    except ValueError:
        return address
    host = host.lower()
    return f"{'127.0.0.1' if host == 'localhost' else host}:{port}"


def _server_targets(config: NodeConfig, tokens: Mapping[str, str]) -> list[_Target]:
    return [
        _Target(s.address, s.token or tokens.get(s.token_env), s.timeout_s, "server", s.name or s.address)
        for s in config.servers
    ]


def _mdns_targets(found: list[Announcement], config: NodeConfig, tokens: Mapping[str, str]) -> list[_Target]:
    configured = {normalize_address(s.address) for s in config.servers}
    token = tokens.get(DEFAULT_TOKEN_ENV)
    return [
        _Target(a.address, token, MDNS_PROBE_TIMEOUT_S, "mdns", a.name, a.kind, a.dof, a.cameras)
        for a in found
        if normalize_address(a.address) not in configured
    ]


def _browse_and_probe(
    config: NodeConfig, tokens: Mapping[str, str], browser: Browser, factory: RemoteFactory
) -> list[RobotRecord]:
    try:
        found = browser(config.mdns.browse_s, config.mdns.interfaces)
    except Exception:
        found = []  # the network could not be browsed: the configured robots are still listed
    return _gather(_mdns_targets(found, config, tokens), factory)


def discover_robots(
    node_config: NodeConfig,
    token_lookup: Mapping[str, str] = os.environ,
    *,
    remote_factory: RemoteFactory | None = None,
    browse: Browser | None = None,
) -> list[RobotRecord]:
    """List every robot of `node_config`: local ones, then configured servers, then mDNS finds.

    `token_lookup` maps environment-variable names to tokens. `remote_factory` and `browse`
    replace `RemoteRobot.at` and `browse_robot_servers` (tests use fakes). Never raises for a robot
    that is down; the time taken is about the largest of: the local probes, the largest server
    `timeout_s`, and `browse_s` + 1 s + the mDNS probe timeout.
    """
    factory = remote_factory or default_remote_factory
    browser = browse or browse_robot_servers
    servers = _server_targets(node_config, token_lookup)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="robot-discovery")
    try:
        # Servers and mDNS are probed in the background while local robots are checked here, one
        # by one (simulators and drivers are not assumed safe to start from several threads).
        probing = pool.submit(_gather, servers, factory)
        browsing: Future[list[RobotRecord]] | None = None
        if node_config.mdns.browse:
            browsing = pool.submit(_browse_and_probe, node_config, token_lookup, browser, factory)
        records = [probe_local(cfg) for cfg in node_config.robots]
        records += probing.result()  # bounded: _gather gives up on each probe at its deadline
        if browsing is not None:
            try:
                limit = node_config.mdns.browse_s + 1.0 + MDNS_PROBE_TIMEOUT_S + 3 * _GRACE_S
                records += browsing.result(timeout=limit)
            except FutureTimeout:
                pass  # browsing overran its own deadlines; list what is known rather than wait
        return records
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
