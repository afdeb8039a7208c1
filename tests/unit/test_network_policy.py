"""How the hosts a sandbox may reach are written: exact names and `*.` subdomain wildcards."""

import pytest

from codegenapp.domain.network_policy import REGISTRY_HOSTS, check_host_pattern


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("pypi.org", "pypi.org"),
        ("Files.PythonHosted.org", "files.pythonhosted.org"),
        ("*.Example.com", "*.example.com"),
        ("*.a.b.example.com", "*.a.b.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("1password.com", "1password.com"),
        ("a." * 125 + "com", "a." * 125 + "com"),  # 253 characters, the longest name
    ],
)
def test_host_names_and_subdomain_wildcards_are_accepted_in_lower_case(
    given: str, kept: str
) -> None:
    assert check_host_pattern(given) == kept


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("", "it is empty"),
        ("https://pypi.org", "URL scheme"),
        ("pypi.org:443", "port"),
        ("pypi.org/simple", "path"),
        ("pypi.org?x", "path"),
        ("user@pypi.org", "user name"),
        ("pypi .org", "white space"),
        (" pypi.org", "white space"),
        ("pypi.org\n", "white space"),
        ("bücher.example", "non-ASCII"),
        ("pypi..org", "empty label"),
        (".example.com", "starts with a dot"),
        ("pypi.org.", "ends with a dot"),
        ("a." * 126 + "com", "longer than 253"),
        ("x" * 64 + ".com", "longer than 63"),
        ("-pypi.org", "inner hyphens"),
        ("pypi-.org", "inner hyphens"),
        ("my_host.example", "no underscores"),
        ("*", "'*' may only stand alone"),
        ("*example.com", "'*' may only stand alone"),
        ("a.*.example.com", "'*' may only stand alone"),
        ("*.*.example.com", "'*' may only stand alone"),
        ("*.com", "at least two labels"),
        ("127.0.0.1", "IP addresses"),
        ("127.1", "IP addresses"),
        ("2130706433", "IP addresses"),
        ("0x7f000001", "IP addresses"),
        ("*.0.1", "IP addresses"),
        ("::1", "IP addresses"),
        ("[::1]", "IP addresses"),
        ("::ffff:127.0.0.1", "IP addresses"),
    ],
)
def test_anything_else_is_refused_saying_why_and_what_is_accepted(given: str, why: str) -> None:
    with pytest.raises(ValueError, match="is not an allowed host") as refused:
        check_host_pattern(given)
    message = str(refused.value)
    assert why in message
    assert "pypi.org, or *.example.com for any subdomain" in message


def test_the_registry_hosts_are_valid_distinct_names_for_pip_npm_and_apt() -> None:
    assert [check_host_pattern(host) for host in REGISTRY_HOSTS] == list(REGISTRY_HOSTS)
    assert len(set(REGISTRY_HOSTS)) == len(REGISTRY_HOSTS)
    assert {"pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "deb.debian.org"} <= set(
        REGISTRY_HOSTS
    )
