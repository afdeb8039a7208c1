"""Test projects: a real git repository, a recipe for the scripted agent, and settings."""

import subprocess
import textwrap
from pathlib import Path

import yaml

APP = textwrap.dedent(
    """\
    import os
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ANSWER = b"ok"


    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(ANSWER)


    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    """
)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def make_repository(path: Path, files: dict[str, str], *, bare: bool = False) -> Path:
    """A repository with one commit on `main` holding `files`; bare if asked (then the commit
    is made in a scratch clone and pushed)."""
    work = path.with_name(path.name + "-work") if bare else path
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial")
    if not bare:
        return path
    git(path.parent, "clone", "-q", "--bare", str(work), str(path))
    return path


def recipe_text(turns: list[dict[str, object]]) -> str:
    """The scripted agent's recipe for `turns`, as the YAML a project stores."""
    return yaml.safe_dump({"turns": turns}, sort_keys=False)


def merges_on(repository: Path, branch: str = "main") -> list[str]:
    out = git(repository, "rev-list", "--merges", branch)
    return out.split() if out else []
