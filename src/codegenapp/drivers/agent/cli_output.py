"""A command-line agent's output, as it streams: progress lines for the run's activity (masked,
without colour codes, bounded), and the tail that becomes its reply, plan or error."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

from codegenapp.domain.masking import Masker, strip_ansi

MAX_LINES_PER_TURN = 1000
MAX_LINE_CHARS = 500
TAIL_CHARS = 64 * 1024
PUBLISH_INTERVAL_S = 0.25
"""Lines are handed on in batches at most this often: each batch rewrites the job's file."""

Publish = Callable[[Sequence[str]], Awaitable[None]]


class Output:
    """An output sink (`OutputSink`) for the command; `publish` receives its lines in batches
    (the last ones on `flush`)."""

    def __init__(self, masker: Masker, publish: Publish, *, label: str) -> None:
        self._masker = masker
        self._publish = publish
        self._label = label
        self._partial = ""
        self._pending: list[str] = []
        self._raw_tail = ""
        self._lines = 0
        self._published_at = time.monotonic()
        self._publishing = asyncio.Lock()  # batches arrive in order
        self._timer: asyncio.Task[None] | None = None

    async def __call__(self, chunk: str) -> None:
        self._raw_tail = (self._raw_tail + chunk)[-2 * TAIL_CHARS :]
        lines = (self._partial + chunk).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._add(line)
        if not self._pending:
            return
        wait = PUBLISH_INTERVAL_S - (time.monotonic() - self._published_at)
        if wait <= 0:
            await self.flush()
        elif self._timer is None or self._timer.done():
            # A command that prints a line and then works quietly must still be seen.
            self._timer = asyncio.create_task(self._flush_after(wait))

    async def _flush_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await asyncio.shield(self._send())  # a batch taken is a batch published

    async def note(self, message: str) -> None:
        """A line of ours (not the command's), shown at once."""
        self._pending.append(f"{self._label} {message}")
        await self.flush()

    async def flush(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._partial:
            self._add(self._partial)
            self._partial = ""
        await self._send()

    async def _send(self) -> None:
        async with self._publishing:
            if self._pending:
                batch, self._pending = self._pending, []
                self._published_at = time.monotonic()
                await self._publish(batch)

    def mask(self, text: str) -> str:
        """`text` with the command's secrets masked, for what we show from elsewhere."""
        return self._masker.mask(text)

    def tail(self, chars: int) -> str:
        """The end of the command's output, masked, at most `chars` characters."""
        text = self._masker.mask(strip_ansi(self._raw_tail)).replace("\0", "")
        text = "\n".join(_last_frame(line) for line in text.split("\n")).strip()
        return text if len(text) <= chars else "…" + text[-(chars - 1) :]

    def _add(self, line: str) -> None:
        shown = self._masker.mask(_last_frame(strip_ansi(line))).replace("\0", "").rstrip()
        if not shown.strip():
            return
        self._lines += 1
        if self._lines == MAX_LINES_PER_TURN + 1:
            self._pending.append(
                f"{self._label} more than {MAX_LINES_PER_TURN} lines of output: the rest is "
                "not shown (its end is kept for the result)"
            )
        if self._lines > MAX_LINES_PER_TURN:
            return
        if len(shown) > MAX_LINE_CHARS:
            shown = shown[: MAX_LINE_CHARS - 1] + "…"
        self._pending.append(shown)


def _last_frame(line: str) -> str:
    """What a terminal would show of a line redrawn with carriage returns (spinners)."""
    frames = [frame for frame in line.split("\r") if frame.strip()]
    return frames[-1] if frames else ""
