"""Which hosts a sandboxed build may reach through the egress proxy, and how they are written.

The egress proxy refuses every request by the host *name* the client asked for, before it looks
that name up or connects. So the allow list is a list of names, in one of two forms:

    pypi.org            exactly that host
    *.example.com       any subdomain of example.com (a.example.com, a.b.example.com), not
                        example.com itself

IP addresses are refused. Registries sit behind CDNs whose addresses change, and an address
has many spellings that resolvers accept (127.1, 0x7f000001, 2130706433, ::ffff:127.0.0.1):
a list of names is the only one whose meaning a reader can check. For the same reason a
name's last label must start with a letter (no top-level domain is numeric), so that no entry
and no wildcard can ever match an address written as a name.

A name says nothing about where it resolves: allowing a name that points at an internal
address (or `localhost`) lets a build reach whatever listens on ports 443 and 80 there.
"""

import re

REGISTRY_HOSTS: tuple[str, ...] = (
    "pypi.org",  # pip: the package index (/simple/)
    "files.pythonhosted.org",  # pip: every file the index links to
    "registry.npmjs.org",  # npm: metadata and tarballs alike
    "deb.debian.org",  # apt: the archive, and security updates since Debian 12
    "security.debian.org",  # apt: security updates as Debian 11 and older images name them
)
"""What every sandbox may reach: exactly the hosts pip, npm and apt contact for PyPI, the npm
registry and Debian's archive (seen through the proxy: pip 23-26, npm 11, apt on Debian 12)."""

MAX_NAME_LENGTH = 253
"""The longest host name DNS can carry (RFC 1035), written without its final dot."""

ACCEPTED = (
    "an exact host name such as pypi.org, or *.example.com for any subdomain of example.com "
    "(not example.com itself); ASCII only (write internationalised names in punycode, "
    "xn--...), without scheme, port, path or trailing dot"
)
"""What `check_host_pattern` accepts, in words, for error messages."""

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def check_host_pattern(value: str) -> str:
    """`value` in lower case if it is an exact host name or a `*.` subdomain wildcard (see the
    module docstring); raise `ValueError` naming what is wrong and what is accepted."""
    pattern = value.lower()
    name = pattern.removeprefix("*.")
    problem = _scheme_port_path_or_space(value) or _name_problem(name)
    if problem is None and name != pattern and name.count(".") == 0:
        problem = "a wildcard must keep at least two labels after '*.' (*.example.com, not *.com)"
    if problem is not None:
        raise ValueError(f"{value!r} is not an allowed host: {problem}; give {ACCEPTED}")
    return pattern


def _scheme_port_path_or_space(value: str) -> str | None:
    if not value:
        return "it is empty"
    if "://" in value:
        return "it holds a URL scheme"
    if any(character.isspace() for character in value):
        return "it holds white space"
    if not value.isascii():
        return "it holds non-ASCII characters"
    if value.count(":") > 1 or value.startswith("["):
        return "IP addresses are not accepted"
    if ":" in value:
        return "it holds a port (the proxy allows 443 and 80 only)"
    if "/" in value or "?" in value or "#" in value:
        return "it holds a path"
    if "@" in value:
        return "it holds a user name"
    return None


def _name_problem(name: str) -> str | None:
    if "*" in name:
        return "'*' may only stand alone as the first label ('*.example.com')"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    if name.startswith("."):
        return "it starts with a dot (write *.example.com for the subdomains of example.com)"
    if name.endswith("."):
        return "it ends with a dot"
    labels = name.split(".")
    if "" in labels:
        return "it holds an empty label ('..' or a leading dot)"
    for label in labels:
        if len(label) > 63:
            return f"the label {label[:20]!r}... is longer than 63 characters"
        if not _LABEL.fullmatch(label):
            return (
                f"the label {label!r} may hold only letters, digits and inner hyphens "
                "(no underscores)"
            )
    if not labels[-1][0].isalpha():
        # inet_aton reads 127.1, 1.2.3.4 and 0x7f.1 as addresses: no TLD starts with a digit.
        return "IP addresses are not accepted (a top-level domain starts with a letter)"
    return None
