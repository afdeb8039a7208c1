"""`codegenapp doctor`: what this machine offers CodegenApp, and why not where it does not.

One `Finding` per part (each sandbox, the egress proxy, the browser, the database, Redis,
GitHub's webhooks, the Codegen account), each checked for real: bwrap runs a command, the
database answers a query, Codegen says whose key it is. `checklist.py` goes further for the
sandboxes: it attacks them (`doctor --isolation`).
"""

import asyncio
import shutil
import subprocess
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from codegenapp.drivers.agent.codegen import codegen_api
from codegenapp.drivers.registry import resolve_default
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox, bubblewrap_available
from codegenapp.drivers.sandbox.docker import docker_available
from codegenapp.errors import AgentError
from codegenapp.settings import Settings, redacted

CHROMIUM = "/usr/bin/chromium"
CHECK_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Finding:
    part: str
    usable: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.usable else 'no':<3} {self.part:<13} {self.detail}"


async def machine_report(settings: Settings) -> list[Finding]:
    """Every part, checked on this machine with `settings`; nothing is changed."""
    findings = [
        await asyncio.to_thread(_bubblewrap, settings),
        await _docker(settings),
        _process(),
        _egress_proxy(),
        await asyncio.to_thread(_chromium),
        await _database(settings),
        _github_webhooks(settings),
        await _codegen(settings),
    ]
    if settings.redis_url:
        findings.append(await _redis(settings.redis_url))
    default = await asyncio.to_thread(resolve_default, settings)
    findings.append(Finding("default", True, f"projects that name no sandbox run in: {default}"))
    return findings


def _bubblewrap(settings: Settings) -> Finding:
    if not bubblewrap_available():
        return Finding(
            "bubblewrap",
            False,
            "bwrap cannot run a sandbox here (apt-get install -y bubblewrap; unprivileged user "
            "namespaces must be allowed)",
        )
    driver = BubblewrapSandbox(settings.state_dir / "sandboxes", settings.work_dir)
    missing = driver.limitations()
    if not missing:
        return Finding(
            "bubblewrap",
            True,
            "isolated: namespaces, pids/memory/CPU cgroup, disk quota, overlay cache",
        )
    return Finding("bubblewrap", True, "isolated, but: " + "; ".join(missing))


async def _docker(settings: Settings) -> Finding:
    host = settings.docker_host or "the local socket"
    problem = await docker_available(settings.docker_host)
    if problem is not None:
        return Finding("docker", False, f"no daemon answers at {host}: {problem}")
    return Finding(
        "docker",
        True,
        f"daemon at {host}; sidecar image {settings.egress_proxy_image}; previews published "
        f"on {settings.docker_publish_address}",
    )


def _github_webhooks(settings: Settings) -> Finding:
    if settings.github_webhook_secret is None:
        return Finding(
            "github-hooks",
            False,
            "refused (503) until GITHUB_WEBHOOK_SECRET is set to the secret of the webhook",
        )
    return Finding(
        "github-hooks",
        True,
        "POST /api/v1/webhooks/github accepts deliveries signed with GITHUB_WEBHOOK_SECRET",
    )


async def _codegen(settings: Settings) -> Finding:
    """The Codegen account, asked for real: whose key it is, and that it is in the org."""
    api = codegen_api(settings)
    if api is None:
        return Finding(
            "codegen",
            False,
            "projects with agent codegen are refused until CODEGEN_API_KEY and CODEGEN_ORG_ID "
            "are set",
        )
    async with api:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S * 3):
                user = await api.me()
                orgs = await api.organizations()
        except (AgentError, TimeoutError) as error:
            return Finding("codegen", False, f"{settings.codegen_api_url}: {error}")
    if not any(org.id == api.org_id for org in orgs.items):
        names = ", ".join(f"{org.id} ({org.name})" for org in orgs.items) or "none"
        return Finding(
            "codegen",
            False,
            f"the key of {user.github_username} is not in organization {api.org_id} "
            f"(CODEGEN_ORG_ID); its organizations: {names}",
        )
    return Finding("codegen", True, f"key of {user.github_username}, organization {api.org_id}")


def _process() -> Finding:
    return Finding(
        "process",
        True,
        "NOT ISOLATED: plain host processes; never chosen by auto when another sandbox works",
    )


def _egress_proxy() -> Finding:
    if shutil.which("tinyproxy") is None:
        return Finding(
            "egress-proxy",
            False,
            "tinyproxy is missing: builds in bubblewrap reach no registry "
            "(apt-get install -y tinyproxy-bin)",
        )
    return Finding("egress-proxy", True, "tinyproxy: builds reach the registries, by name only")


def _chromium() -> Finding:
    try:
        version = subprocess.run(
            [CHROMIUM, "--headless", "--version"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return Finding(
            "browser", False, f"{CHROMIUM} does not run ({error}): apt-get install -y chromium"
        )
    return Finding("browser", True, version)


async def _database(settings: Settings) -> Finding:
    url = settings.app_database_url
    if settings.database_url is None and not (settings.home / "codegenapp.sqlite").exists():
        return Finding("database", True, f"SQLite in {settings.home}, made at first start")
    engine = create_async_engine(url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, DBAPIError, TimeoutError) as error:
        reason = str(error).splitlines()[0]
        return Finding("database", False, f"{redacted(url)}: {type(error).__name__}: {reason}")
    finally:
        await engine.dispose()
    return Finding("database", True, redacted(url))


async def _redis(url: str) -> Finding:
    client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_S)
    try:
        await client.ping()
    except (OSError, RedisError) as error:
        return Finding("redis", False, f"{redacted(url)}: {error}")
    finally:
        await client.aclose()
    return Finding("redis", True, redacted(url))
