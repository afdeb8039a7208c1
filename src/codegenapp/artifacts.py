"""Where validations keep their evidence: one private directory per validation,
`<root>/validations/<id>/`, listed and read by name, removed after the retention period.

Names come from requests: each is checked against `domain.artifacts` (one plain file name,
never a path), and every open refuses symbolic links, so nothing outside a validation's own
directory can be listed or served, whatever its files are.
"""

import contextlib
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from codegenapp.domain.artifacts import ArtifactKind, artifact_kind
from codegenapp.files import make_private_dir

MAX_ARTIFACT_BYTES = 32 * 1024 * 1024
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    kind: ArtifactKind
    size: int


def validation_dir(root: Path, validation_id: int) -> Path:
    return root / "validations" / str(validation_id)


def fresh_dir(root: Path, validation_id: int) -> Path:
    """The validation's directory, made private and emptied (an attempt that runs again
    replaces what the last one kept)."""
    directory = validation_dir(root, validation_id)
    if directory.is_dir() and not directory.is_symlink():
        shutil.rmtree(directory)
    make_private_dir(directory.parent)
    make_private_dir(directory)
    return directory


def kept_dir(root: Path, validation_id: int) -> Path:
    """The validation's directory, made private if new; what it holds is kept."""
    directory = validation_dir(root, validation_id)
    make_private_dir(directory.parent)
    make_private_dir(directory)
    return directory


def list_artifacts(root: Path, validation_id: int) -> list[Artifact]:
    """The validation's artifacts, by name; none if it kept nothing."""
    try:
        fd = _open_dir(root, validation_id)
    except OSError:
        return []
    found = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                kind = artifact_kind(entry.name)
                if kind is None or not entry.is_file(follow_symlinks=False):
                    continue
                found.append(Artifact(entry.name, kind, entry.stat(follow_symlinks=False).st_size))
    finally:
        os.close(fd)
    return sorted(found, key=lambda artifact: _natural(artifact.name))


def read_artifact(root: Path, validation_id: int, name: str) -> tuple[bytes, ArtifactKind] | None:
    """The artifact's content and kind; None if the validation kept nothing by that name (or
    the name cannot be an artifact's)."""
    kind = artifact_kind(name)
    if kind is None:
        return None
    try:
        directory = _open_dir(root, validation_id)
    except OSError:
        return None
    try:
        fd = os.open(name, _FILE, dir_fd=directory)
    except OSError:  # missing, or a symbolic link (ELOOP)
        return None
    finally:
        os.close(directory)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ARTIFACT_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_ARTIFACT_BYTES), kind
    finally:
        os.close(fd)


def remove_expired(root: Path, *, days: int, now: float | None = None) -> list[int]:
    """Remove the artifacts of validations last written more than `days` ago (0: keep all);
    the ids whose artifacts went."""
    base = root / "validations"
    if days <= 0 or not base.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = []
    for entry in base.iterdir():
        if not entry.name.isdigit() or entry.is_symlink() or not entry.is_dir():
            continue
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry)
                removed.append(int(entry.name))
    return sorted(removed)


def _open_dir(root: Path, validation_id: int) -> int:
    """A descriptor of the validation's directory, reached without following any link below
    `root` (the configured root itself may be one)."""
    base = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        validations = os.open("validations", _DIRECTORY, dir_fd=base)
    finally:
        os.close(base)
    try:
        return os.open(str(validation_id), _DIRECTORY, dir_fd=validations)
    finally:
        os.close(validations)


def _natural(name: str) -> tuple[str, int, str]:
    """page-2 before page-10."""
    stem, _, rest = name.partition(".")
    prefix, _, number = stem.rpartition("-")
    return (prefix, int(number), rest) if number.isdigit() else (stem, -1, rest)
