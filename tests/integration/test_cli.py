"""The `codegenapp` command: one line and exit 2 for bad input; the demo, end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import TEST_TOKEN, Server
from tests.support.projects import APP, make_repository, recipe_text


def _cli(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegenapp.cli", *args],
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("CODEGENAPP_SERVER", "CODEGENAPP_TOKEN")
            },
            "CODEGENAPP_HOME": str(home),
            # No developer's own login: the config directory is the test's.
            "XDG_CONFIG_HOME": str(home.parent / "config"),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["frobnicate"], {}, "No such command 'frobnicate'"),
        (["serve", "--port", "abc"], {}, "Invalid value for '--port'"),
        (["serve", "--port", "70000"], {}, "less than or equal to 65535"),
        (["run", "Add a test"], {}, "Missing option '--project'"),
        (["demo", "--json"], {}, "--json goes with --no-serve"),
        (
            ["db", "upgrade"],
            {"CODEGENAPP_VALIDATION_CONCURRENCY": "0"},
            "setting CODEGENAPP_VALIDATION_CONCURRENCY: Input should be greater than or equal to 1",
        ),
        (["project", "list"], {}, "no token"),
        (["db", "upgrade"], {"DATABASE_URL": "mysql://x"}, "setting DATABASE_URL: Value error"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], env: dict[str, str], words: str
) -> None:
    result = _cli(*args, home=tmp_path / "home", env=env)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codegenapp: ")
    assert words in lines[0]


@pytest.mark.parametrize(
    ("command", "env", "words"),
    [
        (
            ["serve"],
            {"DATABASE_URL": "postgresql://postgres:hunter22@127.0.0.1:1/nowhere"},
            "cannot use the database postgresql+asyncpg://postgres:***@127.0.0.1:1/nowhere",
        ),
        (["worker"], {"REDIS_URL": "redis://127.0.0.1:1/0"}, "cannot reach Redis"),
    ],
)
def test_an_unreachable_database_or_redis_is_one_line_and_exit_code_1(
    tmp_path: Path, command: list[str], env: dict[str, str], words: str
) -> None:
    result = _cli(*command, home=tmp_path / "home", env=env)
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr
    assert "hunter22" not in result.stderr


def test_a_secret_key_that_is_no_fernet_key_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret-key").write_text("not a key\n")
    for env, names in (({}, str(home / "secret-key")), ({"CODEGENAPP_SECRET_KEY": "x"}, "")):
        result = _cli("serve", home=home, env=env)
        assert result.returncode == 1, result
        assert result.stderr.count("\n") == 1, result.stderr
        assert "is not a Fernet key" in result.stderr
        assert (names or "CODEGENAPP_SECRET_KEY") in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = _cli("db", "upgrade", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "home" / "codegenapp.sqlite").exists()


async def test_the_client_commands_talk_to_a_running_server(server: Server, tmp_path: Path) -> None:
    repo = make_repository(tmp_path / "repo", {"app.py": APP})
    recipe = tmp_path / "recipe.yaml"  # the CLI reads it, on the caller's side
    recipe.write_text(recipe_text([{"reply": "hello"}]))
    env = {"CODEGENAPP_SERVER": server.url, "CODEGENAPP_TOKEN": TEST_TOKEN}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _cli(*args, home=tmp_path / "home", env=env)

    import asyncio

    added = await asyncio.to_thread(
        cli, "project", "add", "web", "--repository", str(repo), "--recipe", str(recipe)
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("project 1 web")
    refused = await asyncio.to_thread(
        cli, "project", "add", "w2", "--repository", str(tmp_path), "--recipe", str(recipe)
    )
    assert refused.returncode == 2
    assert (
        refused.stderr.strip() == f"codegenapp: repository: {tmp_path} is not a git repository"
        or (
            refused.stderr.startswith("codegenapp: repository:")
            and len(refused.stderr.strip().splitlines()) == 1
        )
    )
    listed = await asyncio.to_thread(cli, "project", "list")
    assert "web" in listed.stdout
    started = await asyncio.to_thread(cli, "run", "Say hello", "--project", "web")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("agent run 1 ")


@pytest.mark.slow
def test_the_demo_runs_to_a_merge_and_reports_it_as_json(tmp_path: Path) -> None:
    result = _cli("demo", "--no-serve", "--json", home=tmp_path / "home", timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["merged"] is True
    assert report["agent_run"]["status"] == "completed"
    assert report["agent_run"]["agent_is_ai"] is False
    attempts = [(v["attempt"], v["status"], v["failed_step"]) for v in report["validations"]]
    assert attempts == [(1, "failed", "health_check"), (2, "passed", None)]
    assert report["pull_request"]["head_sha"] == report["validations"][1]["head_sha"]
