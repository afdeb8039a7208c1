"""A worker that makes a sandbox, starts a service in it that keeps writing a heartbeat, says
the sandbox's handle on its standard output, and waits to be killed: the isolation
checklist's "outlive its worker" probe kills it with SIGKILL and watches the heartbeat.

    python -m codegenapp.doctor.orphan '{"home": …, "kind": …, "image": …, …}'
"""

import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from codegenapp.doctor.checklist import HEARTBEAT, LIMITS
from codegenapp.drivers.registry import make_sandbox
from codegenapp.drivers.sandbox import SandboxSpec
from codegenapp.settings import Settings


async def main(config: dict[str, str]) -> None:
    settings = Settings(
        home=Path(config["home"]),
        docker_host=config.get("docker_host"),
        egress_proxy_image=config["egress_proxy_image"],
    )
    driver = make_sandbox(config["kind"], settings)
    spec = SandboxSpec(name="isolation-orphan", limits=LIMITS, image=config.get("image") or "")
    handle = await driver.create(spec)

    async def ignore(chunk: str) -> None:
        return None

    await driver.start_service(handle, ["sh", "-c", HEARTBEAT], port=8000, on_output=ignore)
    print(json.dumps(asdict(handle)), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
