"""What a command-line agent changed in its checkout, read out of the sandbox by the orchestrator.

The agent works in a checkout of commit `base` (with a `.git` that knows it). Once it is done,
one more command in the same sandbox stages everything (`git add --all`, so `.gitignore`
holds) and writes the binary diff of the index against `base`, base64-encoded between two
markers drawn afresh for this read, so nothing the agent printed or wrote can pass for it.
Commits the agent made itself (aider does) are included: the diff is against `base`, not HEAD.

The diff is then applied, on this host, to the index of our own copy of the checkout
(`git apply --cached`: git refuses paths outside the tree or inside `.git`, and no file is
written), and the changed files are read from there. The sandbox needs `sh`, `git` and
`base64` (coreutils or busybox): the host's for bubblewrap and process sandboxes, the
image's for docker.
"""

import base64
import binascii
import secrets
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.drivers.sandbox import Sandbox, SandboxHandle
from codegenapp.errors import ForgeError

MAX_CHANGES_BYTES = 32 * 1024 * 1024
"""The largest diff taken from an agent: more is a generated tree, not a change to review."""
READ_TIMEOUT_SECONDS = 300.0
_REGULAR = ("100644", "100755")

# $1: the marker; $2: the base commit; $3: the size limit. Runs in the checkout.
_READ_SCRIPT = r"""
g() { git -c core.hooksPath=/dev/null -c safe.directory='*' -c core.fsmonitor=false "$@"; }
out="$HOME/.codegenapp-changes"
if ! g add --all . >"$out.err" 2>&1; then
  echo "git add failed: $(tail -c 2000 "$out.err")"; exit 3
fi
if ! g diff --cached --binary --full-index --no-renames --no-color --no-ext-diff --no-textconv \
    "$2" -- >"$out" 2>"$out.err"; then
  echo "git diff failed: $(tail -c 2000 "$out.err")"; exit 4
fi
size=$(wc -c <"$out")
if [ "$size" -gt "$3" ]; then echo "the changes take $size bytes"; exit 5; fi
echo "$1"; base64 <"$out" || exit 6; echo "$1"
"""


class ChangesUnreadable(Exception):
    """The agent's changes could not be read or cannot be committed; the message says why."""


@dataclass(frozen=True, slots=True)
class Changes:
    """Files to write (path, text) and paths to delete, relative to the repository root."""

    files: tuple[tuple[str, str], ...] = ()
    deletes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the commit cannot keep (an executable bit)

    @property
    def empty(self) -> bool:
        return not self.files and not self.deletes


async def read_diff(sandbox: Sandbox, handle: SandboxHandle, base: str) -> bytes:
    """The binary diff of the sandbox's checkout against commit `base`. Raise
    `ChangesUnreadable` saying why it could not be read (too large, no git, no `base`)."""
    marker = f"codegenapp-changes-{secrets.token_hex(16)}"
    chunks: list[str] = []
    size = 0

    async def collect(chunk: str) -> None:
        nonlocal size
        size += len(chunk)
        if size <= 2 * MAX_CHANGES_BYTES:  # base64 takes 4/3: beyond, the script refused
            chunks.append(chunk)

    argv = ["sh", "-c", _READ_SCRIPT, "read-changes", marker, base, str(MAX_CHANGES_BYTES)]
    result = await sandbox.exec(handle, argv, on_output=collect, timeout=READ_TIMEOUT_SECONDS)
    text = "".join(chunks)
    if result.exit_code != 0:
        said = text.strip().splitlines()[-1:] or [f"exit code {result.exit_code}"]
        if result.exit_code == 5:
            raise ChangesUnreadable(f"{said[0]}; at most {MAX_CHANGES_BYTES} are taken")
        raise ChangesUnreadable(
            f"could not read the agent's changes (the sandbox needs git, sh and base64): {said[0]}"
        )
    parts = text.split(f"{marker}\n")
    if len(parts) != 3:
        raise ChangesUnreadable("could not read the agent's changes: their markers are missing")
    try:
        return base64.b64decode("".join(parts[1].split()), validate=True)
    except binascii.Error as error:
        raise ChangesUnreadable(f"could not read the agent's changes: {error}") from None


async def apply_diff(checkout: Path, diff: bytes) -> Changes:
    """Apply `diff` to the index of `checkout` (our own copy of the base commit; its files are
    not touched) and return the changed files. Raise `ChangesUnreadable` for a diff that does
    not apply, or for changes a commit made for the agent cannot carry (symbolic links,
    nested repositories, files that are not UTF-8 text)."""
    if not diff.strip():
        return Changes()
    try:
        await git.run(["apply", "--cached", "--whitespace=nowarn", "-"], cwd=checkout, stdin=diff)
        raw = await git.run(
            ["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "HEAD"],
            cwd=checkout,
        )
    except ForgeError as error:
        raise ChangesUnreadable(
            f"the agent's changes do not apply to its checkout: {error}"
        ) from None
    files: list[tuple[str, str]] = []
    deletes: list[str] = []
    notes: list[str] = []
    for old_mode, new_mode, blob, status, path in _raw_entries(raw.stdout):
        if status == "D":
            deletes.append(path)
            continue
        if new_mode not in _REGULAR:
            kind = "a symbolic link" if new_mode == "120000" else "a nested repository"
            raise ChangesUnreadable(
                f"the agent made {path!r} {kind}, which CodegenApp cannot commit for it yet"
            )
        if new_mode == "100755" and old_mode != "100755":
            notes.append(f"{path} was made executable; the commit keeps it as a plain file")
        content = await git.run(["cat-file", "blob", blob], cwd=checkout)
        try:
            files.append((path, content.stdout.decode("utf-8")))
        except UnicodeDecodeError:
            raise ChangesUnreadable(
                f"the agent wrote {path!r}, which is not UTF-8 text; CodegenApp commits text "
                "files only for now"
            ) from None
    return Changes(files=tuple(files), deletes=tuple(deletes), notes=tuple(notes))


def _raw_entries(raw: bytes) -> list[tuple[str, str, str, str, str]]:
    """(old mode, new mode, new blob, status, path) from `git diff --raw -z --no-renames`."""
    fields = raw.decode("utf-8", errors="surrogateescape").split("\0")
    entries = []
    for head, path in zip(fields[0::2], fields[1::2], strict=False):
        if not head.startswith(":"):
            continue
        old_mode, new_mode, _, blob, status = head[1:].split(" ")
        if any("\udc80" <= ch <= "\udcff" or ord(ch) < 32 for ch in path):
            raise ChangesUnreadable(
                f"the agent made a file whose name is not UTF-8 or holds control characters: "
                f"{path!r}"
            )
        entries.append((old_mode, new_mode, blob, status[:1], path))
    return entries
