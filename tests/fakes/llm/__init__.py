"""A fake OpenAI-compatible chat completions API (`POST /v1/chat/completions`, with image
parts and JSON mode), strict about the request's shape as the real one is, answering what
the test scripts: a verdict, any text, or a failure (429, 5xx)."""

from tests.fakes.llm.server import FakeLlm, LoggedCompletion

__all__ = ["FakeLlm", "LoggedCompletion"]
