"""The egress proxy of a sandbox: a tinyproxy that lets a build reach its allowed hosts, by
name, and refuses everything else before it looks the name up or connects (ADR 0009).

One tinyproxy runs per sandbox, since each project has its own allow list. The same files
serve a host process (bubblewrap) and a small container (Docker):

    egress.filter   `filter_rules(hosts)`: one anchored rule per allowed host and port
    egress.conf     `tinyproxy_config(...)`: points at the filter, logs to standard output
    tinyproxy_argv("egress.conf")   runs it in the foreground

A build gets `proxy_environment(url)` (plus `trust_environment()` where HTTPS is inspected by
a local CA). A refusal is answered with HTTP 403 and logged; `refusals(log)` turns the log
into `Refusal`s, whose `str()` is the line a build log should show.
"""

import asyncio
import contextlib
import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from codegenapp.domain.network_policy import check_host_pattern
from codegenapp.errors import SandboxError

HTTPS_PORT = 443
HTTP_PORT = 80
LOOPBACK_CLIENTS = ("127.0.0.1", "::1")
NO_PROXY = "localhost,127.0.0.1,::1"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
MAX_CLIENTS = 64
"""Connections at once (tinyproxy runs a thread for each); npm opens at most 15 per host."""
IDLE_TIMEOUT_S = 120
"""tinyproxy closes a connection, tunnels included, after this long without a byte."""
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0

CONFIG_FILE = "egress.conf"
FILTER_FILE = "egress.filter"
LOG_FILE = "egress.log"

# tinyproxy reads its filter file with fgets into 512 bytes: a longer line would silently
# become two rules, the second one unanchored.
_MAX_RULE = 510
_UNPRIVILEGED = 65534  # nobody/nogroup, by number: a minimal container may have no passwd
_REFUSED = re.compile(r'Proxying refused on filtered (?:url|domain) "(?P<target>.*?)"?$')
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
_START_ATTEMPTS = 3


class Refusal(NamedTuple):
    """A request the proxy refused: the host and port it would have reached. A named tuple,
    so that it also unpacks as the `(host, port)` pair drivers want."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"egress proxy refused {host}:{self.port} (not an allowed host)"


def filter_rules(
    allowed_hosts: Iterable[str], *, https_port: int = HTTPS_PORT, http_port: int = HTTP_PORT
) -> str:
    """The filter file that lets through, for each allowed host (`check_host_pattern`; raise
    `ValueError` for one it refuses), a CONNECT to `https_port` and a plain-HTTP request to
    `http_port`, and nothing else.

    tinyproxy matches each rule (ERE, case-insensitive) against the target as the client
    wrote it: `host:port` for CONNECT, the absolute URL for plain HTTP. Every rule is anchored
    at both ends, so `pypi.org.evil.com`, `evilpypi.org`, `pypi.org:22`, `user@pypi.org` and
    IP literals match none. A plain-HTTP URL may hold no ':' after its host: tinyproxy builds
    `http://<Host header>:<port><path>` for a request that is not in proxy form, and a Host
    header such as `pypi.org/x:22` would otherwise pass as pypi.org.
    """
    _check_port("https_port", https_port)
    _check_port("http_port", http_port)
    default_http = "(:80)?" if http_port == HTTP_PORT else f":{http_port}"
    lines = [
        "# Written by CodegenApp: what a sandbox may reach through its egress proxy.",
        "# Anything that matches no line below is refused (FilterDefaultDeny).",
    ]
    for pattern in dict.fromkeys(check_host_pattern(host) for host in allowed_hosts):
        name = _name_regex(pattern)
        lines += [f"^{name}:{https_port}$", f"^http://{name}{default_http}(/[^:]*)?$"]
    if any(len(line) > _MAX_RULE for line in lines):
        raise ValueError(f"a filter rule is longer than tinyproxy reads ({_MAX_RULE} bytes)")
    return "\n".join(lines) + "\n"


def _name_regex(pattern: str) -> str:
    # check_host_pattern leaves only [a-z0-9.-] after an optional leading "*.".
    if pattern.startswith("*."):
        return r"([a-z0-9-]+\.)+" + pattern[2:].replace(".", r"\.")
    return pattern.replace(".", r"\.")


def tinyproxy_config(
    *,
    allowed_hosts: Iterable[str],
    listen: str,
    port: int,
    filter_path: str,
    clients: Sequence[str] = LOOPBACK_CLIENTS,
    max_clients: int = MAX_CLIENTS,
    idle_timeout_s: int = IDLE_TIMEOUT_S,
    upstream: str | None = None,
    log_connections: bool = False,
) -> str:
    """tinyproxy 1.11's configuration: listen on `listen`:`port` for `clients` (addresses or
    networks) only, let through only what the filter at `filter_path` allows (the path as
    tinyproxy sees it; write `filter_rules(allowed_hosts)` there), log refusals to standard
    output. `allowed_hosts` are listed in a comment, for whoever reads the file.

    `upstream` (`host:port`) sends everything allowed through another HTTP proxy, for
    networks that reach the registries only that way. `log_connections` also logs every
    request and connection made (an audit of what a build reached). Raise `ValueError` for
    an argument tinyproxy would misread, or a host `check_host_pattern` refuses.
    """
    hosts = dict.fromkeys(check_host_pattern(host) for host in allowed_hosts)
    listen_address = ipaddress.ip_address(listen)
    _check_port("port", port)
    networks = [ipaddress.ip_network(client, strict=False) for client in clients]
    if not networks:
        raise ValueError("name at least one client address: tinyproxy serves anyone otherwise")
    if not filter_path.startswith("/") or any(bad in filter_path for bad in '"\n\r'):
        raise ValueError(f"{filter_path!r}: give an absolute path without quotes or newlines")
    if max_clients < 1 or idle_timeout_s < 1:
        raise ValueError("max_clients and idle_timeout_s must be at least 1")
    lines = [
        "# Written by CodegenApp: the egress proxy of one sandbox (tinyproxy 1.11).",
        f"Listen {listen_address}",
        f"Port {port}",
        *(f"Allow {network}" for network in networks),
        "# Started as root (in a container, say), drop to nobody once the port is bound.",
        f"User {_UNPRIVILEGED}",
        f"Group {_UNPRIVILEGED}",
        f"MaxClients {max_clients}",
        f"Timeout {idle_timeout_s}",
        "# Every request is matched by the name the client sent, before any lookup or",
        "# connection; the rules pin the port too. (No ConnectPort: it would refuse a wrong",
        "# port first, and log that refusal without the host.)",
        f'Filter "{filter_path}"',
        "# It lets through these hosts, on 443 (CONNECT) and 80 (plain HTTP) unless it says",
        "# other ports:",
        *(f"#   {host}" for host in hosts),
        "FilterType ere",
        "FilterURLs Yes",
        "FilterDefaultDeny Yes",
        "FilterCaseSensitive No",
        "# Nothing about us goes upstream: no Via header, no X-Tinyproxy client address.",
        "DisableViaHeader Yes",
        "XTinyproxy No",
        "# No LogFile: logs go to standard output (the starter decides where that goes).",
        f"LogLevel {'Connect' if log_connections else 'Notice'}",
    ]
    if upstream is not None:
        lines.append(f"Upstream http {_check_upstream(upstream)}")
    return "\n".join(lines) + "\n"


def write_proxy_files(
    directory: Path,
    *,
    allowed_hosts: Iterable[str],
    listen: str,
    port: int,
    https_port: int = HTTPS_PORT,
    http_port: int = HTTP_PORT,
    clients: Sequence[str] = LOOPBACK_CLIENTS,
    upstream: str | None = None,
    log_connections: bool = False,
) -> Path:
    """Write the filter and the configuration of a host-process tinyproxy into `directory`
    (made 0700 if missing) and return the configuration's path, for `tinyproxy_argv`.
    Blocking (two small files). Raise `ValueError` as `tinyproxy_config` does."""
    hosts = list(allowed_hosts)
    rules = filter_rules(hosts, https_port=https_port, http_port=http_port)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    filter_path = (directory / FILTER_FILE).resolve()
    config = tinyproxy_config(
        allowed_hosts=hosts,
        listen=listen,
        port=port,
        filter_path=str(filter_path),
        clients=clients,
        upstream=upstream,
        log_connections=log_connections,
    )
    filter_path.write_text(rules)
    config_path = directory / CONFIG_FILE
    config_path.write_text(config)
    return config_path


def tinyproxy_argv(config_path: str, *, tinyproxy: str = "tinyproxy") -> list[str]:
    """The command that runs tinyproxy with `config_path` in the foreground (`-d`): it stays
    the process that was started, so killing it stops the proxy."""
    return [tinyproxy, "-d", "-c", config_path]


def proxy_environment(proxy_url: str) -> dict[str, str]:
    """What a sandboxed command needs to send its traffic through the proxy at `proxy_url`
    (`http://host:port`): both spellings of each variable, since pip reads either, npm
    lower-cases them, and apt and curl read only `http_proxy`. NO_PROXY keeps the build's
    own services on its loopback direct. Raise `ValueError` for another kind of URL."""
    parts = urlsplit(proxy_url)
    try:
        port = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        port = None
    if (
        parts.scheme != "http"
        or not parts.hostname
        or port is None
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{proxy_url!r}: give the proxy as http://host:port")
    url = proxy_url.rstrip("/")
    environment: dict[str, str] = {}
    for name, value in (("http_proxy", url), ("https_proxy", url), ("no_proxy", NO_PROXY)):
        environment[name] = environment[name.upper()] = value
    return environment


def trust_environment(ca_bundle: str = SYSTEM_CA_BUNDLE) -> dict[str, str]:
    """What makes pip and npm trust the CAs in `ca_bundle` (a path inside the sandbox), for
    machines whose HTTPS is inspected by a local CA. Node ships its own CA list and ignores
    the system's (NODE_EXTRA_CA_CERTS adds to it); a pip older than 24.2 trusts only its own
    certifi unless REQUESTS_CA_BUNDLE names another file (SSL_CERT_FILE does not reach it);
    Python's ssl module and newer pips read SSL_CERT_FILE."""
    return {
        "SSL_CERT_FILE": ca_bundle,
        "REQUESTS_CA_BUNDLE": ca_bundle,
        "NODE_EXTRA_CA_CERTS": ca_bundle,
    }


def parse_refusal(line: str) -> Refusal | None:
    """The refusal a tinyproxy log line reports, or None for any other line: the host as the
    client wrote it (for a URL, what stands between `http://` and the path; a user part
    stays, so that `user@pypi.org` is not reported as `pypi.org`), and the port after its
    last ':' if digits follow it, else 443 for CONNECT and 80 for plain HTTP. The host is
    made printable and short, since the client wrote it."""
    found = _REFUSED.search(line.rstrip("\r\n"))
    if found is None:
        return None
    target = found["target"]
    plain_http = target[:7].lower() == "http://"
    authority = target[7:].split("/", 1)[0] if plain_http else target
    port = HTTP_PORT if plain_http else HTTPS_PORT
    head, colon, tail = authority.rpartition(":")
    if colon and re.fullmatch(r"[0-9]{1,5}", tail):
        authority, port = head, int(tail)
    if authority.startswith("[") and authority.endswith("]"):
        authority = authority[1:-1]
    return Refusal(host=_UNPRINTABLE.sub("?", authority)[:255], port=port)


def refusal_note(line: str) -> str | None:
    """What a command's output shows for a tinyproxy log `line` that reports a refusal (None
    for any other line): the host, and what to do if the build needs it."""
    refusal = parse_refusal(line)
    if refusal is None:
        return None
    return (
        f"[sandbox] {refusal}: add it to deployment_settings.allowed_hosts if the build needs it\n"
    )


def refusals(log: str) -> list[Refusal]:
    """Every refusal in a tinyproxy log, in order, repeats included."""
    return [refusal for line in log.splitlines() if (refusal := parse_refusal(line))]


async def wait_listening(
    host: str,
    port: int,
    *,
    timeout: float,
    process: asyncio.subprocess.Process | None = None,
) -> None:
    """Return once `host`:`port` accepts a connection. Raise `SandboxError` if `timeout`
    passes first, or `process` (the proxy) exits first. Each probe is a connection closed at
    once, which tinyproxy logs as an error ("closed socket before read")."""
    delay = 0.002
    try:
        async with asyncio.timeout(timeout):
            while True:
                if process is not None and process.returncode is not None:
                    raise SandboxError(
                        f"the egress proxy exited with status {process.returncode} "
                        f"before listening on {host}:{port}"
                    )
                try:
                    _, writer = await asyncio.open_connection(host, port)
                except OSError:
                    # Nothing announces the open port: probe again, backing off up to 50 ms.
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
                    continue
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return
    except TimeoutError:
        raise SandboxError(
            f"the egress proxy did not listen on {host}:{port} within {timeout:g} s"
        ) from None


def free_port() -> int:
    """A loopback port nobody holds now; another binder could take it first, and the proxy
    then fails to start, which `wait_listening` reports."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_port(name: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"{name}: {port} is not a TCP port; use 1-65535")


def _check_upstream(upstream: str) -> str:
    host, _, port = upstream.rpartition(":")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", host) or not port.isdigit():
        raise ValueError(f"upstream: {upstream!r}: give host:port (an IPv4 address or a name)")
    _check_port("upstream", int(port))
    return f"{host}:{port}"
