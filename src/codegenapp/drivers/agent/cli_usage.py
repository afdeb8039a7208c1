"""What a command-line agent says a turn used: the command may write a small JSON file at
`$CODEGENAPP_USAGE`, e.g. `{"input_tokens": 1234, "output_tokens": 567, "cost_usd": 0.0123,
"model": "claude-sonnet-4"}` (every key optional, others ignored), and we read it once the
command is done, before the sandbox goes.

The file is in the sandbox's home directory, beside the checkout and never in it, so it is
never committed. It is read through the sandbox (so it works wherever the sandbox lives, and
sees only what the command could see), at most `MAX_USAGE_BYTES`, and never through a
symbolic link. A file that does not validate is ignored with a note saying which field was
wrong; no file is no usage.
"""

import base64
import binascii
import secrets
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codegenapp.domain.agent_usage import AgentUsage
from codegenapp.drivers.sandbox import Sandbox, SandboxHandle
from codegenapp.errors import SandboxError

USAGE_VARIABLE = "CODEGENAPP_USAGE"
USAGE_FILE = ".codegenapp-usage.json"
"""Its name in the sandbox's home directory (`$HOME`), which every sandbox kind has."""
MAX_USAGE_BYTES = 4096
READ_TIMEOUT_SECONDS = 30.0
MAX_TOKENS = 2**31 - 1  # what the database's integer columns hold
MAX_COST_USD = 1_000_000.0

# $1: the marker; $2: the size limit; $3: the file's name. `head` reads one byte past the
# limit so that we can tell a file that is too large; `-f` keeps a FIFO (which would block) or
# a directory out.
_READ_SCRIPT = r"""
f="$HOME/$3"
if [ -L "$f" ]; then echo "$1 symlink"; exit 0; fi
if [ ! -e "$f" ]; then echo "$1 missing"; exit 0; fi
if [ ! -f "$f" ]; then echo "$1 special"; exit 0; fi
echo "$1 file"; head -c "$(($2 + 1))" <"$f" | base64; echo "$1"
"""

Tokens = Annotated[int, Field(ge=0, le=MAX_TOKENS, strict=True)]
Dollars = Annotated[float, Field(ge=0, le=MAX_COST_USD, allow_inf_nan=False, strict=True)]
ModelName = Annotated[str, Field(min_length=1, max_length=100, pattern="^[!-~]+$", strict=True)]
"""Printable ASCII without spaces, as model names are: it is shown as it is."""


class UsageFile(BaseModel):
    """The usage file's accepted shape; unknown keys are ignored (agents report more)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input_tokens: Tokens | None = None
    output_tokens: Tokens | None = None
    cost_usd: Dollars | None = None
    model: ModelName | None = None


class UsageInvalid(Exception):
    """The usage file cannot be taken; the message says which field and why."""


def parse_usage(data: bytes) -> AgentUsage | None:
    """The usage in `data` (the file's bytes), or None if it reports nothing. Raise
    `UsageInvalid` as "<field>: <problem>" for a file that is too large, not a JSON object,
    or holds a value out of range."""
    if len(data) > MAX_USAGE_BYTES:
        raise UsageInvalid(f"file: more than {MAX_USAGE_BYTES} bytes")
    try:
        parsed = UsageFile.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "file"
        raise UsageInvalid(f"{field}: {first['msg']}") from None
    usage = AgentUsage(**parsed.model_dump())
    return None if usage == AgentUsage() else usage


async def read_usage(sandbox: Sandbox, handle: SandboxHandle) -> AgentUsage | None:
    """The usage the command left in the sandbox's usage file, or None if it wrote none.
    Raise `UsageInvalid` saying why a file that is there cannot be taken (a symbolic link, not
    a regular file, too large, invalid, or unreadable)."""
    marker = f"codegenapp-usage-{secrets.token_hex(16)}"
    chunks: list[str] = []

    async def collect(chunk: str) -> None:
        if sum(map(len, chunks)) < 4 * MAX_USAGE_BYTES:  # base64 of the limit, and the markers
            chunks.append(chunk)

    argv = ["sh", "-c", _READ_SCRIPT, "read-usage", marker, str(MAX_USAGE_BYTES), USAGE_FILE]
    try:
        result = await sandbox.exec(handle, argv, on_output=collect, timeout=READ_TIMEOUT_SECONDS)
    except SandboxError as error:
        raise UsageInvalid(f"file: could not be read ({error})") from None
    text = "".join(chunks)
    _, found, after = text.partition(f"{marker} ")
    kind, _, content = after.partition("\n")
    if result.exit_code != 0 or not found:
        raise UsageInvalid(f"file: could not be read (exit code {result.exit_code})")
    if kind == "missing":
        return None
    if kind == "symlink":
        raise UsageInvalid("file: is a symbolic link; write a regular file")
    if kind != "file":
        raise UsageInvalid("file: is not a regular file")
    encoded, end, _ = content.partition(marker)
    try:
        if not end:
            raise binascii.Error("its end marker is missing")
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except binascii.Error as error:
        raise UsageInvalid(f"file: could not be read ({error})") from None
    return parse_usage(data)
