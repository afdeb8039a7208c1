"""What the Engine API tells the docker sandbox about containers, execs, networks and volumes,
as typed values (aiodocker hands back plain JSON)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """What the driver reads back from a container it made."""

    id: str
    name: str
    running: bool
    labels: Mapping[str, str]
    env: tuple[str, ...]  # NAME=value, as configured (the image's and ours)
    published: Mapping[str, int]  # "8080/tcp" → host port


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    id: str
    name: str
    state: str  # created, running, exited, dead, ...
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ExecInfo:
    container_id: str
    running: bool
    exit_code: int | None


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    id: str
    name: str
    labels: Mapping[str, str]
    subnet: str
    containers: int  # endpoints attached now


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    name: str
    labels: Mapping[str, str]


def host_name(url: str) -> str:
    """The machine a DOCKER_HOST URL points at, as a browser would reach it: 127.0.0.1 for a
    socket on this machine."""
    parts = urlsplit(url)
    if parts.scheme in ("tcp", "http", "https", "ssh") and parts.hostname:
        return parts.hostname
    return "127.0.0.1"


def labels_of(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): str(item) for key, item in value.items()}


def container_info(data: dict[str, Any]) -> ContainerInfo:
    ports = (data.get("NetworkSettings") or {}).get("Ports") or {}
    published: dict[str, int] = {}
    for port, bindings in ports.items():
        for binding in bindings or ():
            if str(binding.get("HostPort", "")).isdigit():
                published.setdefault(str(port), int(binding["HostPort"]))
    config = data.get("Config") or {}
    return ContainerInfo(
        id=str(data["Id"]),
        name=str(data.get("Name", "")).lstrip("/"),
        running=bool((data.get("State") or {}).get("Running")),
        labels=labels_of(config.get("Labels")),
        env=tuple(str(entry) for entry in config.get("Env") or ()),
        published=published,
    )
