"""One step's log: masked line by line, stored in batches, streamed live as it grows."""

import asyncio
import contextlib
from collections import deque

from sqlalchemy.ext.asyncio import AsyncSession

from codegenapp.bus import Bus
from codegenapp.db.engine import Database
from codegenapp.db.queries import validations
from codegenapp.db.tables import utcnow
from codegenapp.domain.events import EventRecord, EventType
from codegenapp.domain.ids import ProjectId
from codegenapp.domain.masking import Masker, strip_ansi
from codegenapp.domain.states import StepName

FLUSH_INTERVAL_SEC = 0.25
MAX_STORED_CHARS = 1_000_000
TAIL_CHARS = 64_000
# The start is kept too: a runner that reports failures as they happen (jest) prints the first
# one long before its summary, and the condenser wants both.
HEAD_CHARS = 32_000
_PARTIAL_LINE_LIMIT = 8192


class Kept:
    """The start and the end of a text that arrives in pieces, in bounded memory."""

    def __init__(self, *, head_chars: int = HEAD_CHARS, tail_chars: int = TAIL_CHARS) -> None:
        self._head_room, self._tail_room = head_chars, tail_chars
        self._head: list[str] = []
        self._head_chars = 0
        self._tail: deque[str] = deque()
        self._tail_chars = 0
        self._seen = 0

    def add(self, text: str) -> None:
        self._seen += len(text)
        if self._head_chars < self._head_room:
            self._head.append(text)
            self._head_chars += len(text)
            return
        self._tail.append(text)
        self._tail_chars += len(text)
        while self._tail_chars > self._tail_room and len(self._tail) > 1:
            self._tail_chars -= len(self._tail.popleft())

    def last(self) -> str:
        return "".join(self._tail)

    def text(self) -> str:
        """The start and the end, with how much was left out between them."""
        head, tail = "".join(self._head), "".join(self._tail)
        left_out = self._seen - len(head) - len(tail)
        gap = f"\n[codegenapp] … {left_out} characters left out …\n" if left_out > 0 else ""
        return head + gap + tail


class StepLog:
    """Receives output chunks; a secret split across two chunks is still masked because only
    whole lines (or very long partial ones) are masked and released."""

    def __init__(
        self,
        *,
        database: Database,
        bus: Bus,
        masker: Masker,
        validation_id: int,
        project_id: int,
        step: StepName,
    ) -> None:
        self._database, self._bus, self._masker = database, bus, masker
        self._validation_id, self._project_id, self._step = validation_id, project_id, step
        self._partial = ""
        self._pending: list[str] = []
        self._stored = 0
        self._dropped = 0
        self._kept = Kept()
        self._sections: list[Kept] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def write(self, chunk: str) -> None:
        """The sandbox's `on_output`."""
        text = self._partial + chunk
        cut = text.rfind("\n") + 1
        if cut == 0 and len(text) < _PARTIAL_LINE_LIMIT:
            self._partial = text
            return
        if cut == 0:
            cut = len(text)
        self._partial = text[cut:]
        self._release(self._masker.mask(text[:cut]))

    async def note(self, line: str) -> None:
        """A line of our own (a command being run, a verdict), marked as ours."""
        self._release(self._masker.mask(f"[codegenapp] {line}\n"))

    def open_section(self) -> Kept:
        """Start keeping, apart, what is written from now on (one command's own output)."""
        section = Kept()
        self._sections.append(section)
        return section

    def close_section(self, section: Kept) -> str:
        """The section's text (masked, ANSI codes stripped): its start and end, bounded."""
        self._sections.remove(section)
        return strip_ansi(section.text() + self._masker.mask(self._partial))

    def _release(self, text: str) -> None:
        self._pending.append(text)
        self._kept.add(text)
        for section in self._sections:
            section.add(text)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_INTERVAL_SEC)
        await self.flush()

    async def flush(self, session: AsyncSession | None = None) -> None:
        """Store and stream what was written since the last flush; inside `session` if one
        is given (the step's final flush rides in the transaction that closes the step)."""
        async with self._lock:
            text, self._pending = "".join(self._pending), []
            if not text:
                return
            room = MAX_STORED_CHARS - self._stored
            stored = text[: max(room, 0)]
            self._dropped += len(text) - len(stored)
            if stored:
                self._stored += len(stored)
                if session is not None:
                    await validations.append_log(session, self._validation_id, self._step, stored)
                else:
                    async with self._database.transaction() as own:
                        await validations.append_log(own, self._validation_id, self._step, stored)
            await self._stream(text)

    async def _stream(self, text: str) -> None:
        event = EventRecord(
            id=None,
            type=EventType.VALIDATION_LOG,
            project_id=ProjectId(self._project_id),
            data={"validation_id": self._validation_id, "step": self._step.value, "text": text},
            ts=utcnow(),
        )
        with contextlib.suppress(Exception):  # live streaming is best effort; the table is not
            await self._bus.publish([event])

    async def close(self) -> None:
        if self._partial:
            self._release(self._masker.mask(self._partial))
            self._partial = ""
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()
        if self._dropped:
            async with self._database.transaction() as session:
                note = f"\n[codegenapp] … {self._dropped} characters not stored; the last part:\n"
                last = strip_ansi(self._kept.last())
                await validations.append_log(session, self._validation_id, self._step, note + last)

    def tail(self) -> str:
        """The start and the last part of the log (masked), for the error context, with how
        much was left out between them; ANSI codes stripped."""
        return strip_ansi(self._kept.text() + self._masker.mask(self._partial))
