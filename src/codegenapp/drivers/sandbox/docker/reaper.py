"""What docker sandboxes leave when their worker dies, found by label and removed.

The lifeline stops (and Docker removes) a dead worker's containers within about a second, so
what is usually left is a network and a relay volume; a worker killed while it made a
sandbox can also leave a container that never started. Nothing younger than a grace period
is touched: another worker may be making that sandbox right now.
"""

import time
from collections.abc import Mapping

from codegenapp.drivers.sandbox.docker.engine import Engine
from codegenapp.drivers.sandbox.docker.layout import (
    CREATED_LABEL,
    NAMESPACE_LABEL,
    RELAY,
    ROLE_LABEL,
    SANDBOX,
    SANDBOX_LABEL,
)

GRACE_S = 60.0


async def reap(engine: Engine, namespace: str, *, grace_s: float = GRACE_S) -> list[str]:
    """Remove, in `namespace`, the containers that are not running, the sidecars and relays
    whose sandbox no longer runs, and the networks and relay volumes nothing uses; never a
    cache, never a running sandbox (its worker lives). Return the ids of the sandboxes
    whose remains were removed."""
    now = time.time()

    def old(labels: Mapping[str, str]) -> bool:
        created = labels.get(CREATED_LABEL, "")
        return created.isdigit() and now - int(created) >= grace_s

    ours = [f"{NAMESPACE_LABEL}={namespace}"]
    containers = await engine.containers(ours)
    alive = {
        entry.labels.get(SANDBOX_LABEL)
        for entry in containers
        if entry.labels.get(ROLE_LABEL) == SANDBOX and entry.state == "running"
    }
    removed: dict[str, None] = {}
    for entry in containers:
        sandbox = entry.labels.get(SANDBOX_LABEL, "")
        orphaned = entry.labels.get(ROLE_LABEL) != SANDBOX and sandbox not in alive
        if (entry.state != "running" or orphaned) and old(entry.labels):
            await engine.remove(entry.id)
            removed[sandbox] = None
    for network in await engine.networks(ours):
        idle = network.containers == 0 and old(network.labels)
        if idle and await engine.remove_network(network.id):
            removed[network.labels.get(SANDBOX_LABEL, "")] = None
    for volume in await engine.volumes([*ours, f"{ROLE_LABEL}={RELAY}"]):
        sandbox = volume.labels.get(SANDBOX_LABEL, "")
        unused = sandbox not in alive and old(volume.labels)
        if unused and await engine.remove_volume(volume.name):
            removed[sandbox] = None
    return [sandbox for sandbox in removed if sandbox]  # the egress bridge is no sandbox's
