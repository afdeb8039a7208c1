"""The demo's command-line agent: a small script, not an AI, that edits the demo app as the
prompt asks (`codegenapp demo --agent cli` runs it in the sandbox as `python3 -I -c <this>`).

It reads the prompt from $CODEGENAPP_PROMPT, as aider or Claude Code would get it:
- on a plan-only pass ($CODEGENAPP_PLAN_ONLY=1) it prints its plan;
- asked for a /health endpoint, it adds one and its test, with a mistake on purpose (the
  server reads APP_PORT, which nobody sets), so that the demo shows a failed validation;
- handed that failure (the validation's error context names APP_PORT), it fixes it.
It uses the standard library only.
"""

import os
import pathlib
import sys

LABEL = "[demo agent, a script: not an AI]"
PLAN = """\
1. Add a VERSION constant to app.py.
2. Answer GET /health with {"status": "ok", "version": VERSION}.
3. Add a unit test for /health."""
ROUTE = """    if path == "/":
        return 200, {"message": GREETING}
"""
HEALTH = """    if path == "/health":
        return 200, {"status": "ok", "version": VERSION}
"""
TEST = """
    def test_health_reports_status_and_version(self) -> None:
        status, body = app.route("/health")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "ok", "version": app.VERSION})
"""
TESTS_END = """

if __name__ == "__main__":"""


def edit(path: str, old: str, new: str) -> None:
    file = pathlib.Path(path)
    text = file.read_text(encoding="utf-8")
    if old not in text:
        sys.exit(f"{LABEL} {path} is not as the demo left it: cannot find {old.strip()!r}")
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    print(f"{LABEL} edited {path}", flush=True)


def add_health() -> None:
    edit(
        "app.py",
        'GREETING = "Hello from the demo app"\n',
        'GREETING = "Hello from the demo app"\nVERSION = "1.1.0"\n',
    )
    edit("app.py", ROUTE, ROUTE + HEALTH)
    edit("app.py", 'os.environ["PORT"]', 'os.environ["APP_PORT"]')  # the demo's mistake
    edit("test_app.py", TESTS_END, TEST.rstrip("\n") + TESTS_END)


def main() -> None:
    prompt = os.environ.get("CODEGENAPP_PROMPT", "")
    print(f"{LABEL} read a prompt of {len(prompt)} characters", flush=True)
    if os.environ.get("CODEGENAPP_PLAN_ONLY") == "1":
        print(PLAN)
    elif "APP_PORT" in prompt:
        print(f"{LABEL} the error context says the server reads APP_PORT; the sandbox sets PORT")
        edit("app.py", 'os.environ["APP_PORT"]', 'os.environ["PORT"]')
        print("Fixed the start-up crash: the server listens on $PORT again.")
    elif "/health" in prompt:
        add_health()
        print("Added GET /health and its test.")
    else:
        print("This demo script only knows how to add the demo app's /health endpoint.")


if __name__ == "__main__":
    main()
