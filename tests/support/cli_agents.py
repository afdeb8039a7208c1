"""Small real scripts that play command-line agents in the tests: each reads the prompt from
`$CODEGENAPP_PROMPT`, the way aider or Claude Code would get it, and does one thing.

They are written into a directory that the bubblewrap sandbox sees read-only (the server's
`sandbox_tools`), as a team's own agent script would be installed on a worker."""

import textwrap
from pathlib import Path

from codegenapp.domain.agent_settings import CliAgentSettings
from codegenapp.domain.repositories import ForgeKind
from codegenapp.domain.secret_box import SecretBox
from codegenapp.drivers.agent import AgentTask
from codegenapp.drivers.agent.cli import CliAgent
from codegenapp.drivers.forge import Forge
from codegenapp.drivers.forge.local_git import LocalGitForge
from codegenapp.drivers.sandbox import Sandbox
from codegenapp.drivers.sandbox.bubblewrap import BubblewrapSandbox

PASSING_CHECK = "print('checks pass')\n"
FAILING_CHECK = "import sys\nprint('AssertionError:', 2, '!=', 3)\nsys.exit(1)\n"
"""It prints "AssertionError: 2 != 3", a text its own source does not hold: only the
validation's error context can bring those words into a prompt."""

SCRIPTS = {
    # Writes what the prompt asks with lines `Write <path>: <text>` (`\n` for new lines), and
    # fixes check.py when the prompt carries the failure that check printed.
    "edit.py": f"""
        import os, pathlib, re, sys
        prompt = os.environ["CODEGENAPP_PROMPT"]
        if sys.argv[1:] != [prompt]:
            sys.exit("{{prompt}} did not arrive as one argument equal to $CODEGENAPP_PROMPT")
        print("edit agent (a test script, not an AI), turn prompt of", len(prompt), "characters")
        if "AssertionError: 2 != 3" in prompt:
            pathlib.Path("check.py").write_text({PASSING_CHECK!r})
            print("fixing check.py: the prompt says AssertionError: 2 != 3")
        else:
            for path, text in re.findall(r"^Write (\\S+): (.*)$", prompt, re.M):
                pathlib.Path(path).write_text(text.replace("\\\\n", "\\n"))
                print("wrote", path)
    """,
    # Plans on a plan-only pass (and tries to change a file there, which must not count);
    # otherwise answers with what it was told.
    "planner.py": """
        import os, pathlib
        prompt = os.environ["CODEGENAPP_PROMPT"]
        if os.environ["CODEGENAPP_PLAN_ONLY"] == "1":
            pathlib.Path("PLAN_PASS_WAS_HERE").write_text("a plan-only pass wrote this\\n")
            print("1. Read app.py")
            print("2. Add a /version route")
        else:
            print("Told:", prompt.splitlines()[-1])
    """,
    # Reports usage: writes the last `Usage: <text>` line of the prompt, as it is, to the file
    # at $CODEGENAPP_USAGE (which must lie outside its checkout), and says so.
    "metered.py": """
        import os, re, sys
        path = os.environ["CODEGENAPP_USAGE"]
        if os.path.realpath(path).startswith(os.getcwd() + os.sep):
            sys.exit(f"$CODEGENAPP_USAGE is in the checkout: {path}")
        reported = re.findall(r"^Usage: (.*)$", os.environ["CODEGENAPP_PROMPT"], re.M)[-1]
        with open(path, "w") as usage:
            usage.write(reported)
        print("reported", reported)
    """,
    # Says something and fails.
    "fail.py": """
        import sys
        for n in range(1, 31):
            print("working on step", n)
        print("Error: the model refused the request (quota exceeded)")
        sys.exit(3)
    """,
    # Never ends on its own.
    "hang.py": """
        import time
        print("thinking...", flush=True)
        time.sleep(3600)
    """,
    # Looks for what it must not have: a secret it was not granted, hosts it may not reach,
    # the server's own files and environment; prints what it found, changes nothing.
    "snoop.py": """
        import os, socket, sys, urllib.request
        print("granted:", os.environ.get("GRANTED_TOKEN"))
        print("hidden:", os.environ.get("HIDDEN_TOKEN"))
        print("env:", " ".join(sorted(os.environ)))
        for name in sys.argv[1:]:
            if name.startswith("/"):
                try:
                    open(name, "rb").read(1)
                    print("read", name)
                except OSError as error:
                    print("could not read", name, type(error).__name__)
            elif name.startswith("https://"):
                try:
                    urllib.request.urlopen(name, timeout=20)
                    print("reached", name)
                except Exception as error:
                    print("could not reach", name, error)
            else:
                host, port = name.split(":")
                try:
                    socket.create_connection((host, int(port)), timeout=5).close()
                    print("connected to", name)
                except OSError as error:
                    print("could not connect to", name, type(error).__name__)
    """,
}


def write_agents(directory: Path) -> Path:
    """The scripts of `SCRIPTS` in `directory` (created); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in SCRIPTS.items():
        (directory / name).write_text(textwrap.dedent(source).lstrip())
    return directory


SECRET_KEY = b"q5Qv2V8l7bO3o0y0cXoJ6m8m0l3X2cW1c2k8Jb5m7xE="
"""The Fernet key the tests' agents seal their jobs' secrets with."""


def bubblewrap(root: Path, agents: Path) -> BubblewrapSandbox:
    """The sandbox driver of `cli_agent`: any instance with the same `root` sees the same
    sandboxes."""
    return BubblewrapSandbox(
        root / "sandbox-state", root / "work", cache_root=root / "caches", tools=[agents]
    )


def cli_agent(root: Path, agents: Path) -> CliAgent:
    """A command-line agent as the registry makes one, on local repositories under `root`,
    in bubblewrap sandboxes that see the scripts in `agents`: its state, work areas and
    mirrors all under `root` (so another process can make the same agent)."""
    forge = LocalGitForge([root], mirror_dir=root / "mirrors")
    sandbox = bubblewrap(root, agents)

    def forges(kind: ForgeKind) -> Forge:
        assert kind is ForgeKind.LOCAL, kind
        return forge

    def sandboxes(kind: str | None) -> Sandbox:
        assert kind in (None, "bubblewrap"), kind
        return sandbox

    return CliAgent(
        root / "agent-state",
        forges=forges,
        sandboxes=sandboxes,
        secret_box=SecretBox(SECRET_KEY),
    )


def cli_task(
    repository: Path, command: str, *, goal: str = "Say hello", **settings: object
) -> AgentTask:
    return AgentTask(
        run_id=7,
        goal=goal,
        repository=str(repository),
        base_branch="main",
        branch="codegenapp/run-7",
        settings=CliAgentSettings(provider="cli", command=command, **settings),  # type: ignore[arg-type]
    )
