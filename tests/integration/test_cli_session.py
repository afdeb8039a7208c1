"""A developer's session with the `codegenapp` command against a real server: logging in,
where the CLI points and why, and what it says when the server is down or refuses."""

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.conftest import TEST_TOKEN, Server, SettingsFactory, free_port, serve

from codegenapp import __version__
from codegenapp.cli import app
from codegenapp.db.queries import tokens

CLIENT_VARIABLES = ("CODEGENAPP_SERVER", "CODEGENAPP_TOKEN", "CODEGENAPP_PORT", "XDG_CONFIG_HOME")


class Shell:
    """A developer's shell: their own home, config directory and environment; each command a
    real `codegenapp` process."""

    def __init__(self, root: Path, **env: str) -> None:
        self.home = root / "cli-home"  # no server's home unless a test says so
        self.config = root / "config"
        base = {k: v for k, v in os.environ.items() if k not in CLIENT_VARIABLES}
        self.env = {
            **base,
            "CODEGENAPP_HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config),
            "CODEGENAPP_PORT": str(free_port()),  # nothing listens there
            "COLUMNS": "200",
            **env,
        }

    @property
    def login_file(self) -> Path:
        return self.config / "codegenapp" / "login.json"

    def run(
        self, *args: str, stdin: str = "", timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codegenapp.cli", *args],
            env={**self.env, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    async def __call__(
        self, *args: str, stdin: str = "", **env: str
    ) -> subprocess.CompletedProcess[str]:
        """The command, in a thread: the test's own server answers it meanwhile."""
        return await asyncio.to_thread(self.run, *args, stdin=stdin, **env)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single `codegenapp: …` line a failing command prints, and nothing else."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codegenapp: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


async def test_login_checks_the_token_keeps_it_private_and_status_and_logout_follow(
    server: Server, shell: Shell
) -> None:
    logged_in = await shell("login", server.url + "/", "--token", TEST_TOKEN)
    assert logged_in.returncode == 0, logged_in.stderr
    assert f"Logged in to {server.url} (CodegenApp " in logged_in.stdout
    assert mode(shell.login_file) == 0o600
    assert mode(shell.login_file.parent) == 0o700
    assert json.loads(shell.login_file.read_text()) == {"server": server.url, "token": TEST_TOKEN}

    status = await shell("status")
    assert status.returncode == 0, status.stderr
    assert f"server   {server.url} (from the login in {shell.login_file})" in status.stdout
    assert f"token    …{TEST_TOKEN[-4:]} (from the login in {shell.login_file})" in status.stdout
    assert f"version  CodegenApp {__version__}" in status.stdout
    assert "signed in as token 'admin (CODEGENAPP_ADMIN_TOKEN)' (id " in status.stdout
    assert TEST_TOKEN not in status.stdout

    as_json = json.loads((await shell("status", "--json")).stdout)
    assert as_json["server"] == server.url
    assert as_json["token_works"] is True
    assert as_json["version"] == __version__
    assert as_json["signed_in_as"]["name"] == "admin (CODEGENAPP_ADMIN_TOKEN)"
    assert TEST_TOKEN not in json.dumps(as_json)

    logged_out = await shell("logout")
    assert logged_out.returncode == 0, logged_out.stderr
    assert f"Logged out of {server.url}" in logged_out.stdout
    assert not shell.login_file.exists()
    again = await shell("logout")
    assert again.returncode == 0
    assert "Not logged in" in again.stdout

    # Without a login, the CLI looks for a server on this machine, and has no token for it.
    after = await shell("status")
    assert after.returncode == 1
    assert "no token for http://127.0.0.1:" in one_line(after)
    assert "codegenapp login" in one_line(after)


async def test_a_token_from_standard_input_is_checked_and_kept(
    server: Server, shell: Shell
) -> None:
    result = await shell("login", server.url, stdin=TEST_TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert "with the token from standard input" in result.stdout
    assert json.loads(shell.login_file.read_text())["token"] == TEST_TOKEN


async def test_a_bad_token_is_refused_in_one_line_and_not_kept(
    server: Server, shell: Shell
) -> None:
    refused = await shell("login", server.url, "--token", "not-the-token")
    assert refused.returncode == 1
    line = one_line(refused)
    assert f"{server.url} refused the token from --token" in line
    assert "run `codegenapp login`" in line
    assert not shell.login_file.exists()

    with_env = await shell("projects", "list", CODEGENAPP_SERVER=server.url, CODEGENAPP_TOKEN="bad")
    assert with_env.returncode == 1
    assert "refused the token from CODEGENAPP_TOKEN" in one_line(with_env)


async def test_the_environment_overrides_the_login_and_flags_override_both(
    server: Server, shell: Shell
) -> None:
    assert (await shell("login", server.url, "--token", TEST_TOKEN)).returncode == 0
    down = f"http://127.0.0.1:{free_port()}"

    by_env = await shell("status", CODEGENAPP_SERVER=down)
    assert by_env.returncode == 1
    assert f"server  {down} (from CODEGENAPP_SERVER)" in by_env.stdout
    # The stored token belongs to the stored server: it is never sent to another one.
    assert f"no token for {down}" in one_line(by_env)

    by_flag = await shell("status", "--server", server.url, CODEGENAPP_SERVER=down)
    assert by_flag.returncode == 0, by_flag.stderr
    assert f"server   {server.url} (from --server)" in by_flag.stdout

    token_by_env = await shell("status", CODEGENAPP_TOKEN="wrong")
    assert token_by_env.returncode == 1
    assert "refused the token from CODEGENAPP_TOKEN" in one_line(token_by_env)
    token_by_flag = await shell("status", "--token", TEST_TOKEN, CODEGENAPP_TOKEN="wrong")
    assert token_by_flag.returncode == 0, token_by_flag.stderr


async def test_status_says_where_it_points_and_which_token_the_server_takes_it_for(
    server: Server, shell: Shell
) -> None:
    async with server.runtime.database.transaction() as session:
        await tokens.add_token(session, name="laptop", token="laptop-token-" + "z" * 24)
    env = {"CODEGENAPP_SERVER": server.url, "CODEGENAPP_TOKEN": "laptop-token-" + "z" * 24}
    status = await shell("status", **env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == f"server   {server.url} (from CODEGENAPP_SERVER)"
    assert lines[1] == "token    …zzzz (from CODEGENAPP_TOKEN)"
    assert lines[2] == f"version  CodegenApp {__version__}"
    assert lines[3].startswith("signed in as token 'laptop' (id ")
    assert len(lines) == 4
    assert "laptop-token-" not in status.stdout + status.stderr

    refused = await shell("status", **{**env, "CODEGENAPP_TOKEN": "not-a-token"})
    assert refused.returncode == 1
    assert f"{server.url} refused the token from CODEGENAPP_TOKEN" in one_line(refused)
    assert "signed in" not in refused.stdout


async def test_a_server_that_is_down_gets_the_hint_and_exit_code_1(shell: Shell) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for args in (
        ["projects", "list"],
        ["runs", "list"],
        ["status"],
        ["login", down, "--token", "any"],
    ):
        result = await shell(*args, CODEGENAPP_SERVER=down, CODEGENAPP_TOKEN="any")
        assert result.returncode == 1, (args, result)
        assert one_line(result) == (
            f"codegenapp: cannot reach {down}: is `codegenapp serve` running? "
            "set CODEGENAPP_SERVER or run `codegenapp login`"
        )


@pytest.fixture
async def local_server(make_settings: SettingsFactory) -> AsyncIterator[Server]:
    """A server that made its own admin token, as `codegenapp serve` does on first start."""
    async for running in serve(make_settings(admin_token=None)):
        yield running


async def test_the_server_on_this_machine_and_its_admin_token_are_found_by_themselves(
    local_server: Server, shell: Shell
) -> None:
    home = local_server.settings.home
    env = {"CODEGENAPP_HOME": str(home), "CODEGENAPP_PORT": str(local_server.settings.port)}
    status = await shell("status", **env)
    assert status.returncode == 0, status.stderr
    assert "(from the default: the server on this machine)" in status.stdout
    assert f"(from the server's home ({home / 'admin-token'}))" in status.stdout

    logged_in = await shell("login", **env)
    assert logged_in.returncode == 0, logged_in.stderr
    stored = json.loads(shell.login_file.read_text())
    assert stored == {
        "server": local_server.url,
        "token": (home / "admin-token").read_text().strip(),
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["runs", "show", "abc"], "Invalid value for 'RUN'"),
        (["runs", "list", "--limit", "0"], "Invalid value for '--limit'"),
        (["login", "ftp://example.com"], "give a URL such as http://127.0.0.1:8000"),
        (["status", "--server", "localhost:8000"], "give a URL such as http://127.0.0.1:8000"),
        (["runs", "frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_code_2(
    shell: Shell, args: list[str], words: str
) -> None:
    result = shell.run(*args, CODEGENAPP_TOKEN="any")
    assert result.returncode == 2, result
    assert words in one_line(result)


def _commands(group: Any, prefix: str = "codegenapp") -> list[tuple[str, str]]:
    """Every command under `group` that --help lists, with its help text."""
    found: list[tuple[str, str]] = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append((f"{prefix} {name}", command.help or ""))
    return found


def test_every_command_has_an_example_in_its_help() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 30
    for path, help_text in commands:
        example = help_text[help_text.index("Example: ") :].splitlines()[0]
        assert path in example, path


def test_the_shell_completes_commands_and_choices(shell: Shell) -> None:
    commands = shell.run(
        _CODEGENAPP_COMPLETE="complete_bash", COMP_WORDS="codegenapp ru", COMP_CWORD="1"
    )
    assert commands.stdout.split() == ["run", "runs"]
    steps = shell.run(
        _CODEGENAPP_COMPLETE="complete_bash",
        COMP_WORDS="codegenapp validations log 3 --step he",
        COMP_CWORD="5",
    )
    assert steps.stdout.split() == ["health_check"]
    script = shell.run("--show-completion", "bash", SHELL="/bin/bash")
    assert "complete -o default -F _codegenapp_completion codegenapp" in script.stdout


def test_the_version_and_the_help_without_a_command(shell: Shell) -> None:
    version = shell.run("--version")
    assert (version.returncode, version.stdout) == (0, f"codegenapp {__version__}\n")
    bare = shell.run()
    assert bare.returncode == 0, bare.stderr
    assert "Talk to a server" in bare.stdout
    assert bare.stderr == ""
