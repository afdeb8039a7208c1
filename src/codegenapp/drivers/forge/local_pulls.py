"""How the local git forge stores pull requests: one JSON file each, inside the repository.

`<git-dir>/codegenapp/pulls/<number>.json`, next to a lock file that every writer holds, so two
processes never allocate the same number or merge the same pull request twice.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from codegenapp.drivers import state_files
from codegenapp.drivers.forge import ChangeState, CommitState
from codegenapp.errors import ForgeError


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class StoredComment:
    body: str
    created_at: str
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class StoredStatus:
    state: CommitState
    description: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PullRecord:
    """A pull request file's content. `merged_head_sha` is the head it was merged at."""

    number: int
    title: str
    body: str
    head_branch: str
    base_branch: str
    state: ChangeState
    created_at: str
    merged_head_sha: str | None = None
    merge_sha: str | None = None
    comments: tuple[StoredComment, ...] = ()
    # {sha: {context: status}}
    statuses: Mapping[str, Mapping[str, StoredStatus]] = field(default_factory=dict)


_RECORD = TypeAdapter(PullRecord)


class PullStore:
    """The pull request files of one repository; every method but `load`/`load_all` must be
    called while holding `locked()`."""

    def __init__(self, git_dir: Path) -> None:
        self._root = git_dir / "codegenapp"
        self._pulls = self._root / "pulls"

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        async with state_files.locked(self._root / "lock", error=ForgeError):
            yield

    async def load(self, number: int) -> PullRecord | None:
        return await asyncio.to_thread(self._read, self._pulls / f"{number}.json")

    async def load_all(self) -> list[PullRecord]:
        """Every pull request, oldest (lowest number) first."""
        return await asyncio.to_thread(self._read_all)

    async def save(self, record: PullRecord) -> None:
        data = _RECORD.dump_json(record, indent=2) + b"\n"
        path = self._pulls / f"{record.number}.json"
        await asyncio.to_thread(state_files.write_atomically, path, data)

    async def require(self, number: int) -> PullRecord:
        record = await self.load(number)
        if record is None:
            raise ForgeError(f"pull request #{number} does not exist")
        return record

    def _read_all(self) -> list[PullRecord]:
        if not self._pulls.is_dir():
            return []
        numbers = sorted(int(p.stem) for p in self._pulls.glob("*.json") if p.stem.isdigit())
        records = (self._read(self._pulls / f"{n}.json") for n in numbers)
        return [r for r in records if r is not None]

    @staticmethod
    def _read(path: Path) -> PullRecord | None:
        data = state_files.read_state(path)
        if data is None:
            return None
        try:
            return _RECORD.validate_json(data)
        except ValidationError as error:
            raise ForgeError(f"{path} is not a valid pull request file: {error}") from None
