"""`git diff base...head` as every forge prints it: the same options whatever the repository
configures, and never more than the reader asked for."""

import re
from pathlib import Path

from codegenapp.drivers import git
from codegenapp.errors import DiffTooLarge, ForgeError

DIFF_TIMEOUT_SECONDS = 120.0
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")

# A repository's own config may change the prefixes, the context, the colours or run an
# external diff tool; the reader of the text (domain/gate_integrity.py) expects git's defaults.
_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--unified=3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


def is_full_sha(text: str) -> bool:
    """A whole commit id (SHA-1 or SHA-256), not a branch name or an abbreviation."""
    return bool(_FULL_SHA.match(text))


async def three_dot_diff(git_dir: Path, base: str, head: str, *, max_bytes: int, where: str) -> str:
    """The diff of `head` since its merge base with `base`, both commits `git_dir` holds.

    Raise `DiffTooLarge` past `max_bytes`, `ForgeError` if git refuses (no merge base, say);
    `where` names the repository in either message."""
    result = await git.run(
        ["--git-dir", str(git_dir), "diff", *_OPTIONS, f"{base}...{head}", "--"],
        timeout=DIFF_TIMEOUT_SECONDS,
        accept=None,
        max_stdout=max_bytes,
    )
    if result.overflowed:
        raise DiffTooLarge(
            f"the diff of {head[:12]} against {base} in {where} is longer than {max_bytes} bytes",
            max_bytes=max_bytes,
        )
    if result.exit_code != 0:
        why = result.stderr.splitlines()[-1:] or ["(no message)"]
        raise ForgeError(f"could not diff {head[:12]} against {base} in {where}: {why[0]}")
    return result.stdout.decode("utf-8", errors="replace")
