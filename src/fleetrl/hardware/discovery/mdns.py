"""Announcing robot servers on the local network over mDNS, and browsing for them.

A robot server announces one service of type `_fleetrl-robot._tcp.local.` per robot, whose TXT
record carries what the robot is before anyone connects to it:

    name=panda0  kind=sim_panda  dof=7  cameras=wrist:128x128:wrist,scene:128x128:scene  proto=1

    with RobotAnnouncer("panda0", "sim_panda", 7, "10.0.0.7", 50051, cameras=spec.cameras):
        server.wait()                                     # announced while the block runs
    found = browse_robot_servers(timeout_s=1.5)           # -> [Announcement(...)]

Every wait is bounded: registering, browsing and resolving each take a deadline. `interfaces`
lists IPv4 addresses of the interfaces to use (["127.0.0.1"] keeps traffic on loopback); None
means every interface.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from zeroconf import (
    DNSQuestionType,
    InterfaceChoice,
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)

from fleetrl.core.types import CameraSpec

SERVICE_TYPE = "_fleetrl-robot._tcp.local."
PROTOCOL_VERSION = "1"
"""Version of the robot-server protocol an announcement promises; browsers skip other versions."""

_RESOLVE_S = 1.0


@dataclass(frozen=True)
class Announcement:
    """A robot server found on the network: what it serves and where ("host:port")."""

    name: str
    kind: str
    dof: int
    address: str
    cameras: tuple[CameraSpec, ...] = field(default=())


def encode_cameras(cameras: Sequence[CameraSpec | str]) -> str:
    """Cameras as one TXT value, "name:HxW:mount,..." (a bare name for a camera given by name)."""
    parts = [c if isinstance(c, str) else f"{c.name}:{c.height}x{c.width}:{c.mount}" for c in cameras]
    return ",".join(parts)


def decode_cameras(text: str) -> tuple[CameraSpec, ...]:
    """Inverse of `encode_cameras`; a malformed entry keeps its name and default size."""
    cameras = []
    for part in filter(None, text.split(",")):
        name, _, rest = part.partition(":")
        size, _, mount = rest.partition(":")
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        height, width = (int(match[1]), int(match[2])) if match else (128, 128)
        cameras.append(CameraSpec(name, height, width, mount if mount in ("wrist", "scene") else "scene"))
    return tuple(cameras)


def _interfaces(interfaces: Sequence[str] | None) -> Any:
    return InterfaceChoice.All if interfaces is None else list(interfaces)


def _label(text: str) -> str:
    """A DNS label: letters, digits and hyphens, at most 63 bytes."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:63] or "fleetrl"


def host_ipv4_addresses() -> list[str]:
    """This host's IPv4 addresses, loopback last."""
    import ifaddr

    found = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)]
    return sorted(set(found), key=lambda a: (a.startswith("127."), a)) or ["127.0.0.1"]


def announced_ipv4s(host: str) -> list[str]:
    """The IPv4 addresses to announce for a server listening on `host`; `ValueError` if none.

    "", "0.0.0.0" and "::" (every interface) announce every address of the host but loopback
    (loopback alone on a host without another); a host name is resolved. IPv6-only servers
    cannot be announced (browsing is IPv4 only).
    """
    if host in ("", "0.0.0.0", "::"):
        addresses = host_ipv4_addresses()
        return [a for a in addresses if not a.startswith("127.")] or addresses
    try:
        return [str(ipaddress.IPv4Address(host))]
    except ValueError:
        pass
    if ":" in host:
        raise ValueError(f"cannot announce IPv6 address {host!r}; listen on an IPv4 address")
    try:
        return [socket.gethostbyname(host)]
    except OSError as err:
        raise ValueError(f"cannot resolve host {host!r}: {err}") from None


class RobotAnnouncer:
    """Announces one robot server while started; a context manager (start on enter, stop on exit).

    `host` is where the server listens (see `announced_ipv4s`; `ValueError` when it cannot be
    announced), `port` its TCP port. The service instance is named "<name> @ <hostname>";
    zeroconf renames it on a conflict. `start()` returns once the name is probed and announced
    (zeroconf bounds that; about 1.7 s here), `stop()` unregisters (sending goodbyes) and closes;
    both are idempotent.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        dof: int,
        host: str,
        port: int,
        cameras: Sequence[CameraSpec | str] = (),
        *,
        interfaces: Sequence[str] | None = None,
    ) -> None:
        addresses = announced_ipv4s(host)
        hostname = socket.gethostname()
        properties = {
            "name": name,
            "kind": kind,
            "dof": str(int(dof)),
            "cameras": encode_cameras(cameras),
            "proto": PROTOCOL_VERSION,
        }
        for key, value in properties.items():
            if len(key) + 1 + len(value.encode()) > 255:
                raise ValueError(f"mDNS TXT entry {key!r} is longer than 255 bytes: {value!r}")
        self.info = ServiceInfo(
            SERVICE_TYPE,
            f"{name} @ {hostname}"[:63] + "." + SERVICE_TYPE,
            addresses=[socket.inet_aton(a) for a in addresses],
            port=int(port),
            properties=properties,
            server=f"{_label(hostname)}-{_label(addresses[0])}.local.",
        )
        self.address = f"{addresses[0]}:{int(port)}"
        """The "host:port" announced first (a server on every interface announces all its addresses)."""
        self._interfaces = interfaces
        self._zeroconf: Zeroconf | None = None

    def start(self) -> RobotAnnouncer:
        if self._zeroconf is None:
            zc = Zeroconf(interfaces=_interfaces(self._interfaces), ip_version=IPVersion.V4Only)
            try:
                zc.register_service(self.info, allow_name_change=True)
            except BaseException:
                zc.close()
                raise
            self._zeroconf = zc
        return self

    def stop(self) -> None:
        zc, self._zeroconf = self._zeroconf, None
        if zc is not None:
            try:
                zc.unregister_service(self.info)
            finally:
                zc.close()

    def __enter__(self) -> RobotAnnouncer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _text(props: dict[bytes, bytes | None], key: str) -> str:
    value = props.get(key.encode())
    return value.decode(errors="replace") if value else ""


def _announcement(info: ServiceInfo) -> Announcement | None:
    """The announcement a resolved service carries; None when it is not a usable robot server."""
    props = info.properties or {}
    # A server on every interface announces all its addresses: prefer one that is not loopback.
    addresses = sorted(info.parsed_addresses(IPVersion.V4Only), key=lambda a: a.startswith("127."))
    if _text(props, "proto") != PROTOCOL_VERSION or not addresses or not info.port:
        return None
    dof_text = _text(props, "dof")
    return Announcement(
        name=_text(props, "name") or info.name.removesuffix("." + SERVICE_TYPE),
        kind=_text(props, "kind"),
        dof=int(dof_text) if dof_text.isdigit() else 0,
        address=f"{addresses[0]}:{info.port}",
        cameras=decode_cameras(_text(props, "cameras")),
    )


def browse_robot_servers(timeout_s: float, interfaces: Sequence[str] | None = None) -> list[Announcement]:
    """Listen `timeout_s` seconds for announced robot servers; return them sorted by name.

    Services are resolved after the listening window, all within one more second at most, so the
    call returns within about `timeout_s + 1` s. Servers announcing another protocol version are
    skipped; one address is listed once. A responder does not repeat a record it multicast less
    than a second ago (RFC 6762), so a server that registered just now may need `timeout_s` >= 1.5.
    """
    names: dict[str, None] = {}
    lock = threading.Lock()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        with lock:
            if state_change is ServiceStateChange.Removed:
                names.pop(name, None)
            else:
                names[name] = None

    zc = Zeroconf(interfaces=_interfaces(interfaces), ip_version=IPVersion.V4Only)
    try:
        # Ask for multicast answers: a unicast answer to port 5353 reaches only one of the sockets
        # sharing that port (SO_REUSEPORT), often not ours when a server runs on the same host.
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change], question_type=DNSQuestionType.QM)
        time.sleep(max(0.0, timeout_s))
        browser.cancel()
        with lock:
            found = list(names)
        deadline = time.monotonic() + _RESOLVE_S
        announcements: dict[str, Announcement] = {}
        for name in found:
            info = ServiceInfo(SERVICE_TYPE, name)
            remaining_ms = max(1.0, (deadline - time.monotonic()) * 1000.0)
            if info.request(zc, remaining_ms):
                ann = _announcement(info)
                if ann is not None:
                    announcements.setdefault(ann.address, ann)
    finally:
        zc.close()
    return sorted(announcements.values(), key=lambda a: (a.name, a.address))
