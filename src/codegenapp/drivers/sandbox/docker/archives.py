"""The tar archives the docker sandbox puts into containers (the Engine API's only way in):
small trees made in memory, and a directory of this host packed into a temporary file."""

import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

OWNER = 65534  # nobody: who runs the commands, and so who owns what they work on


@dataclass(frozen=True, slots=True)
class Entry:
    """A directory (`content` None) or a file of an in-memory archive."""

    mode: int
    content: bytes | None = None
    owner: int = OWNER


def tar_of(entries: Mapping[str, Entry]) -> bytes:
    """An archive of `entries`, by relative path, in order (parents first)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, entry in entries.items():
            member = tarfile.TarInfo(name)
            member.mode, member.uid, member.gid = entry.mode, entry.owner, entry.owner
            if entry.content is None:
                member.type = tarfile.DIRTYPE
                archive.addfile(member)
            else:
                member.size = len(entry.content)
                archive.addfile(member, io.BytesIO(entry.content))
    return buffer.getvalue()


def pack_directory(root: Path) -> IO[bytes]:
    """A temporary file (gone once closed) holding the tree under `root` as an archive of
    its contents, every entry owned by `OWNER`. Only directories, regular files and
    symbolic links go in (stored as links, never followed). Blocking: run it in a thread."""
    packed = tempfile.TemporaryFile(prefix="codegenapp-tree-")  # noqa: SIM115 - the caller closes it
    try:
        with tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for directory, subdirectories, files in os.walk(root):
                subdirectories.sort()
                for name in sorted([*subdirectories, *files]):
                    path = Path(directory, name)
                    info = path.lstat()
                    if not (
                        stat.S_ISDIR(info.st_mode)
                        or stat.S_ISREG(info.st_mode)
                        or stat.S_ISLNK(info.st_mode)
                    ):
                        continue
                    archive.add(
                        path, arcname=str(path.relative_to(root)), recursive=False, filter=_owned
                    )
        packed.seek(0)
    except BaseException:
        packed.close()
        raise
    return packed


def _owned(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = OWNER
    member.uname = member.gname = ""
    return member
