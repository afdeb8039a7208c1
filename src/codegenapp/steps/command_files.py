"""The files a failed command points to ("A complete log of this run can be found in:
/workspace/home/.npm/_logs/…-debug-0.log", "generated xml file: /workspace/src/report.xml"),
read from the sandbox before cleanup deletes them, and kept as the validation's artifacts.

Without this, the agent and the person were sent to a path in a work area that no longer
existed. Each file is read by a command inside the sandbox (the same isolation as the code
that wrote it: a symbolic link to the host's files resolves inside the sandbox), and only if
it lies in the work area: the source or the home directory. What is kept is masked like
every log; the command's output gains a note saying where the file is kept, with its end.
"""

import asyncio
import re
import secrets

from codegenapp import artifacts
from codegenapp.domain.artifacts import command_file_artifact
from codegenapp.domain.states import CheckName
from codegenapp.errors import SandboxError, StepTimedOut
from codegenapp.files import write_private
from codegenapp.steps import StepContext
from codegenapp.steps.log import StepLog

MAX_FILES = 3
MAX_FILE_BYTES = 256 * 1024
READ_TIMEOUT_S = 10.0
TAIL_LINES = 30  # of each kept file, in the output the agent is shown
# An absolute path to a file with a log's or a report's extension, as runners print them.
_POINTED = re.compile(r"(?<![\w./-])(/(?:[\w.@+-]+/)+[\w.@+-]+\.(?:log|txt|xml|json|out|html))\b")
# Run in the sandbox: the file, resolved there, must be a regular file in the source
# directory (the command's working directory), under $HOME, or under one of the extra roots
# given; a marker line precedes its content.
_READ = """
file=$1 marker=$2 limit=$3; shift 3
real=$(realpath -e -- "$file" 2>/dev/null) || exit 3
[ -f "$real" ] || exit 5
for root in "$(pwd -P)" "$(realpath -- "${HOME:-}" 2>/dev/null)" "$@"; do
  [ -n "$root" ] && [ "$root" != / ] || continue
  case "$real" in "$root"/*) printf '%s\\n' "$marker"; exec head -c "$limit" -- "$real";; esac
done
exit 4
"""
# Where a sandbox that isolates its files keeps its own temporary files (a test's receipt,
# a report in a temporary directory); in one that does not, /tmp is the host's.
PRIVATE_TMP = "/tmp"  # noqa: S108 - a path inside the sandbox, read through it


def pointed_paths(output: str) -> list[str]:
    """The distinct file paths `output` names, in order of first mention, at most MAX_FILES."""
    return list(dict.fromkeys(_POINTED.findall(output)))[:MAX_FILES]


async def keep_pointed_files(ctx: StepContext, log: StepLog, check: CheckName, output: str) -> str:
    """Keep the files the failed `check`'s `output` points to; the note to add to the output
    the agent is shown (empty if none was kept)."""
    if ctx.artifacts_root is None or ctx.remaining() <= 0:
        return ""
    notes: list[str] = []
    for path in pointed_paths(output):
        content = await _read(ctx, path)
        if content is None:
            continue
        name = command_file_artifact(check.value, len(notes) + 1)
        masked = ctx.masker.mask(content)
        directory = await asyncio.to_thread(
            artifacts.kept_dir, ctx.artifacts_root, ctx.validation_id
        )
        await asyncio.to_thread(write_private, directory / name, masked.encode())
        await log.note(f"{check.value}: kept {path} as the artifact {name}")
        tail = "\n".join(masked.splitlines()[-TAIL_LINES:])
        notes.append(
            f"[codegenapp] kept as the validation's artifact {name} (the work area is gone "
            f"now): {path}; its last lines:\n{tail}\n"
        )
    return "".join(notes)


async def _read(ctx: StepContext, path: str) -> str | None:
    marker = f"codegenapp-file-{secrets.token_hex(8)}"
    extra_roots = [PRIVATE_TMP] if ctx.sandbox.isolated else []
    received: list[str] = []

    async def collect(chunk: str) -> None:
        received.append(chunk)

    try:
        result = await ctx.sandbox.exec(
            ctx.require_handle(),
            ["sh", "-c", _READ, "read", path, marker, str(MAX_FILE_BYTES), *extra_roots],
            on_output=collect,
            timeout=min(READ_TIMEOUT_S, ctx.remaining()),
        )
    except (SandboxError, StepTimedOut):
        return None
    if result.exit_code != 0:
        return None
    # A driver may print a line of its own first (the process driver's "not isolated").
    _, found, content = "".join(received).partition(marker + "\n")
    return content if found else None
