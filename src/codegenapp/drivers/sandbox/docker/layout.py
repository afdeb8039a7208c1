"""What the docker sandbox makes on the daemon for one sandbox, and the names and labels by
which any process holding the handle finds it again (nothing is remembered elsewhere):

    <ns>-<id>            the sandbox container, on the network below and nothing else
    <ns>-<id>            its internal network (no route out, no address on the host side)
    <ns>-<id>-sidecar    the egress proxy and the published port (both networks)
    <ns>-<id>-relay      in the sandbox's network namespace: the sidecar's way to its loopback
    <ns>-<id>-relay      the volume the sidecar and the relay share a socket in
    <ns>-egress          the bridge every sidecar of the namespace reaches out through
    <ns>-cache-<key>     a project's dependency cache (kept: destroy never removes it)

`<ns>` is the driver's namespace ("codegenapp"), so that two servers (or test sessions)
sharing a daemon never touch each other's sandboxes.
"""

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from codegenapp.errors import InvalidInput

SANDBOX_LABEL = "codegenapp.sandbox"
ROLE_LABEL = "codegenapp.role"
CREATED_LABEL = "codegenapp.created"
NAMESPACE_LABEL = "codegenapp.namespace"
PORT_LABEL = "codegenapp.port"  # on a relay: the service port it reaches
HOSTS_LABEL = "codegenapp.allowed-hosts"  # on a sandbox: its egress allow list
CACHE_LABEL = "codegenapp.cache"  # on a sandbox: the cache volume it copied
WRITEBACK_LABEL = "codegenapp.cache-writeback"  # "1": copy /cache back at destroy

SANDBOX, SIDECAR, RELAY, EGRESS, CACHE, HELPER = (
    "sandbox",
    "sidecar",
    "relay",
    "egress",
    "cache",
    "helper",
)

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")


def check_name(field: str, value: str) -> str:
    """`value` if Docker takes it as (part of) a name; raise `InvalidInput` otherwise."""
    if not _NAME.fullmatch(value):
        raise InvalidInput(
            field, f"{value!r} cannot name a Docker object; use [a-zA-Z0-9_.-], at most 63"
        )
    return value


@dataclass(frozen=True, slots=True)
class Layout:
    """The objects of sandbox `id` in `namespace`."""

    namespace: str
    id: str

    @property
    def sandbox(self) -> str:
        return f"{self.namespace}-{self.id}"

    @property
    def network(self) -> str:
        return f"{self.namespace}-{self.id}"

    @property
    def sidecar(self) -> str:
        return f"{self.namespace}-{self.id}-sidecar"

    @property
    def relay(self) -> str:
        return f"{self.namespace}-{self.id}-relay"

    @property
    def relay_volume(self) -> str:
        return f"{self.namespace}-{self.id}-relay"

    @property
    def egress_network(self) -> str:
        return egress_network(self.namespace)

    def cache_volume(self, key: str) -> str:
        return cache_volume(self.namespace, key)

    def labels(self, role: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The labels of an object of this sandbox in `role`, plus `extra`."""
        return {
            NAMESPACE_LABEL: self.namespace,
            SANDBOX_LABEL: self.id,
            ROLE_LABEL: role,
            CREATED_LABEL: str(int(time.time())),
            **(extra or {}),
        }


def new_id(name: str) -> str:
    """A fresh sandbox id, readable: `name` in lower case and dashes, then 12 hex digits."""
    ascii_name = name.lower().encode("ascii", "ignore").decode()
    words = "".join(ch if ch.isalnum() else "-" for ch in ascii_name).split("-")
    slug = "-".join(word for word in words if word)[:30] or "sandbox"
    return f"{slug}-{secrets.token_hex(6)}"


def egress_network(namespace: str) -> str:
    return f"{namespace}-egress"


def cache_volume(namespace: str, key: str) -> str:
    return f"{namespace}-cache-{check_name('cache_key', key)}"


def shared_labels(namespace: str, role: str) -> dict[str, str]:
    """The labels of what the sandboxes of a namespace share (the egress bridge, caches)."""
    return {NAMESPACE_LABEL: namespace, ROLE_LABEL: role, CREATED_LABEL: str(int(time.time()))}
