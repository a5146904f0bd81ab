"""`fleetrl robot-server`: serve one robot over gRPC until SIGINT or SIGTERM.

    fleetrl robot-server --robot sim_panda --scene cube --port 50051 --announce

Prints one line, `serving <name> (<kind>, <dof> DoF) on <host>:<port>`, once it listens (with
the port actually bound, so `--port 0` can be used by scripts), and exits 0 after a clean stop
that disconnects the robot. A missing token or a bad config exits 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from fleetrl.core.config import load_yaml
from fleetrl.core.errors import ConfigError
from fleetrl.core.types import RobotSpec
from fleetrl.hardware.registry import make_robot, parse_robot_config, robot_class
from fleetrl.hardware.robot_config import RobotConfig
from fleetrl.hardware.server.auth import TOKEN_ENV, resolve_token
from fleetrl.hardware.server.lease import DEFAULT_IDLE_S


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "robot-server",
        help="serve one robot over gRPC to learners and actors on other processes or hosts",
        description="Serve one robot over gRPC until SIGINT or SIGTERM; clients use robot type 'remote'.",
    )
    parser.add_argument("--robot", required=True, metavar="TYPE", help="robot type from the registry, e.g. sim_panda")
    parser.add_argument("--name", help="robot name (default: the config's, else the type)")
    parser.add_argument("--config", metavar="ROBOT_YAML", help="YAML file holding one robot config mapping")
    parser.add_argument("--scene", help="scene to load around a simulated robot (overrides the config)")
    parser.add_argument("--paced", action="store_true", help="keep send_action on the robot's control clock")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: localhost only)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: any free port)")
    parser.add_argument("--token", help=f"shared secret clients must send (default: ${TOKEN_ENV})")
    parser.add_argument("--tls-cert", metavar="PEM", help="TLS certificate, for links that leave the machine")
    parser.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    parser.add_argument("--announce", action="store_true", help="announce the robot on the local network (mDNS)")
    parser.add_argument("--grace", type=float, default=2.0, help="seconds running calls get to finish on stop")
    parser.add_argument(
        "--lease-idle-s", type=float, default=DEFAULT_IDLE_S, metavar="S",
        help="one client drives the robot at a time; another may take it over once the driving client "
             f"has made no call for S seconds (default {DEFAULT_IDLE_S:g})",
    )
    parser.set_defaults(func=run)


def build_robot_config(args: argparse.Namespace) -> RobotConfig:
    """The robot config from `--config` and the flags that override it; errors name the key."""
    data: dict[str, Any] = load_yaml(args.config) if args.config else {}
    where = f"{args.config}: robot" if args.config else "robot"
    if "type" in data and data["type"] != args.robot:
        raise ConfigError(f"{where}.type: {data['type']!r} does not match --robot {args.robot!r}")
    data["type"] = args.robot
    try:
        fields = robot_class(args.robot).config_class.model_fields
    except ConfigError as err:
        raise ConfigError(f"--robot: {err}") from None
    for flag, key, value in (("--name", "name", args.name), ("--scene", "scene", args.scene)):
        if value is not None:
            data[key] = value
            if key not in fields:
                raise ConfigError(f"{flag}: robot type {args.robot!r} has no {key!r} setting")
    if args.paced:
        if "paced" not in fields:
            raise ConfigError(f"--paced: robot type {args.robot!r} has no 'paced' setting")
        data["paced"] = True
    return parse_robot_config(data, where)


def _announcer(args: argparse.Namespace, spec: RobotSpec, port: int) -> Any:
    """A started mDNS announcer, or None with a warning when discovery is not available."""
    try:
        from fleetrl.hardware.discovery.mdns import RobotAnnouncer
    except ImportError as err:
        _warn(f"not announcing: discovery unavailable ({err})")
        return None
    if args.host.startswith("127.") or args.host in ("localhost", "::1"):
        _warn(f"announcing a server that listens on {args.host} only; other hosts cannot connect (--host 0.0.0.0)")
    try:
        announcer = RobotAnnouncer(
            name=spec.name, kind=spec.kind, dof=spec.dof, host=args.host, port=port, cameras=spec.cameras
        )
    except ValueError as err:
        raise ConfigError(f"--announce: cannot announce host {args.host!r}: {err}") from err
    announcer.start()
    return announcer


def _warn(message: str) -> None:
    print(f"fleetrl robot-server: warning: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `fleetrl --help` does not load gRPC.
    from fleetrl.hardware.server.robot_server import RobotServer

    token = resolve_token(args.token)
    robot = make_robot(build_robot_config(args))
    spec = robot.spec

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = RobotServer(robot, token, host=args.host, port=args.port, tls_cert=args.tls_cert, tls_key=args.tls_key,
                         lease_idle_s=args.lease_idle_s)
    announcer = None
    try:
        server.connect_robot()  # fail now, with the driver's message, not on the first client
        port = server.start()
        print(f"serving {spec.name} ({spec.kind}, {spec.dof} DoF) on {server.address}", flush=True)
        if args.announce:
            announcer = _announcer(args, spec, port)
        while not stop.wait(timeout=0.5):
            pass
    finally:
        if announcer is not None:
            announcer.stop()
        server.stop(args.grace)  # disconnects the robot, on its own thread
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"stopped serving {spec.name}", file=sys.stderr, flush=True)
    return 0
