"""A node's hardware config: the robots attached to it, robot servers to probe, mDNS browsing.

    robots:                     # robots this node drives directly, one registry config each
      - {type: sim_panda, name: panda0}
    servers:                    # robot servers (`fleetrl robot-server`) to probe over the network
      - {address: "10.0.0.7:50051", name: arm-lab}
    mdns: {browse: true, browse_s: 1.5}

Every error names the file and the offending key (`fleet.yaml: robots[1].cameras[0].mount: ...`).
Robot names must be unique on the node, across `robots` and named `servers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator

from fleetrl.core.config import load_yaml, validate
from fleetrl.core.errors import ConfigError
from fleetrl.hardware.registry import parse_robot_config
from fleetrl.hardware.robot_config import RobotConfig

DEFAULT_TOKEN_ENV = "FLEETRL_ROBOT_TOKEN"


def split_address(address: str) -> tuple[str, int]:
    """Split "host:port" (or "[v6]:port") into (host, port); `ValueError` when malformed."""
    host, sep, port_text = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected 'host:port' with a port in 1..65535, got {address!r}")
    return host, int(port_text)


class ServerEntry(BaseModel):
    """A robot server to probe (config key `servers[i]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(description="Where the robot server listens, as 'host:port'.")
    name: str | None = Field(None, description="Name to list it under while it cannot be reached.")
    token_env: str = Field(DEFAULT_TOKEN_ENV, description="Environment variable holding the server's token.")
    token: str | None = Field(None, description="The token itself; prefer `token_env` so files hold no secrets.")
    timeout_s: float = Field(2.0, gt=0, le=60, description="Deadline of each call to the server, seconds.")

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        split_address(value)
        return value


class MdnsConfig(BaseModel):
    """Browsing the local network for announced robot servers (config key `mdns`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    browse: bool = Field(False, description="List robot servers announced over mDNS as well.")
    browse_s: float = Field(1.5, gt=0, le=30, description="How long to listen for announcements, seconds.")
    interfaces: list[str] | None = Field(
        None, description="IPv4 addresses of the interfaces to browse on (e.g. ['127.0.0.1']); all when unset."
    )


class NodeConfig(BaseModel):
    """The hardware of one node. `robots` holds each robot's own registry config class."""

    model_config = ConfigDict(extra="forbid")

    robots: list[SerializeAsAny[RobotConfig]] = Field(
        default_factory=list, description="Robots attached to this node; each item is a registry robot config."
    )
    servers: list[ServerEntry] = Field(default_factory=list, description="Robot servers to probe.")
    mdns: MdnsConfig = Field(default_factory=MdnsConfig, description="mDNS browsing for announced robot servers.")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "node config") -> NodeConfig:
        """Validate a mapping; every `ConfigError` names `where` and the offending key."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            known = ", ".join(cls.model_fields)
            raise ConfigError(f"{where}: {unknown[0]}: unknown key; expected one of {known}")
        robots = [parse_robot(item, f"{where}: robots[{i}]") for i, item in enumerate(_items(data, "robots", where))]
        servers = [
            validate(ServerEntry, item, f"{where}: servers[{i}]") for i, item in enumerate(_items(data, "servers", where))
        ]
        mdns = validate(MdnsConfig, data.get("mdns") or {}, f"{where}: mdns")
        _check_unique_names(robots, servers, where)
        return cls(robots=robots, servers=servers, mdns=mdns)


def parse_robot(item: Any, where: str) -> RobotConfig:
    """`parse_robot_config`, with a robot module that fails to import reported as a config error."""
    try:
        return parse_robot_config(item, where=where)
    except ImportError as err:
        kind = item.get("type") if isinstance(item, dict) else None
        raise ConfigError(f"{where}.type: robot type {kind!r} cannot be loaded: {err}") from None


def _items(data: dict[str, Any], key: str, where: str) -> list[Any]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError(f"{where}: {key}: expected a list, got {type(items).__name__}")
    return items


def _check_unique_names(robots: list[RobotConfig], servers: list[ServerEntry], where: str) -> None:
    seen: dict[str, str] = {}
    named = [(cfg.robot_name(), f"robots[{i}]") for i, cfg in enumerate(robots)]
    named += [(entry.name, f"servers[{i}]") for i, entry in enumerate(servers) if entry.name]
    for name, key in named:
        if name in seen:
            raise ConfigError(f"{where}: {key}.name: duplicate robot name {name!r} (already used by {seen[name]})")
        seen[name] = key


def load_node_config(path: str | Path) -> NodeConfig:
    """Read and validate a node config file; `ConfigError` names the file and the offending key."""
    return NodeConfig.from_dict(load_yaml(path), where=str(path))
