"""The `llm` judge: an OpenAI-compatible chat completions API that reads images (LLM_BASE_URL,
LLM_API_KEY, LLM_MODEL), asked whether the preview meets the goal (see `llm_prompt`).

Every failure becomes a judgement without a verdict that says why ("judge unavailable: …"):
a refusal (4xx) at once; a 429, a 5xx or no answer after a few tries with backoff; all of it
within the caller's timeout. Nothing here raises for the service, and nothing passes by default.
"""

import asyncio
from dataclasses import dataclass
from typing import Final

import httpx
import stamina

from codegenapp.drivers.evaluator import JudgeBrief, Judgement
from codegenapp.drivers.evaluator.llm_prompt import chat_request, clean, read_answer, unavailable

WORDS_SHOWN = 300  # of a refusal's body, in the finding


@dataclass(frozen=True, slots=True)
class Backoff:
    """How 429, 5xx and lost connections are asked again (stamina: exponential, jittered,
    capped in attempts; the caller's timeout caps the time)."""

    attempts: int = 3
    initial: float = 0.5
    maximum: float = 4.0


DEFAULT_BACKOFF: Final = Backoff()


class _Transient(Exception):
    """An answer worth asking again for: 429, 5xx, or none at all."""


class LlmJudge:
    """The judge at `base_url` (".../v1": requests go to `{base_url}/chat/completions`)."""

    name = "llm"

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._backoff = backoff

    async def judge(self, brief: JudgeBrief, *, timeout: float) -> Judgement:
        body = chat_request(self.model, brief)
        headers = {"Accept": "application/json", "User-Agent": "CodegenApp"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            async with httpx.AsyncClient(headers=headers, timeout=timeout) as http:
                async with asyncio.timeout(timeout):
                    response = await self._post(http, body)
        except TimeoutError:
            return self._unavailable(f"no answer from {self.base_url} within {timeout:g} s")
        except _Transient as last:
            tries = self._backoff.attempts
            return self._unavailable(f"{last} (asked {tries} times, with backoff)")
        return self._read(response)

    async def _post(self, http: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
        backoff = self._backoff
        url = f"{self.base_url}/chat/completions"
        async for attempt in stamina.retry_context(
            on=_Transient,
            attempts=backoff.attempts,
            timeout=None,  # the caller's timeout bounds the whole
            wait_initial=backoff.initial,
            wait_max=backoff.maximum,
        ):
            with attempt:
                try:
                    response = await http.post(url, json=body)
                except httpx.TransportError as error:
                    raise _Transient(
                        f"no answer from {url} ({type(error).__name__}: {error})"
                    ) from error
                if response.status_code == 429 or response.status_code >= 500:
                    raise _Transient(
                        f"{url} answered HTTP {response.status_code}: {_their_words(response)}"
                    )
        return response

    def _read(self, response: httpx.Response) -> Judgement:
        status = response.status_code
        if status in (401, 403):
            return self._unavailable(
                f"the LLM at {self.base_url} did not accept LLM_API_KEY (HTTP {status}: "
                f"{_their_words(response)})"
            )
        if status >= 300:
            return self._unavailable(
                f"the LLM at {self.base_url} refused the request (HTTP {status}: "
                f"{_their_words(response)})"
            )
        try:
            body = response.json()
        except ValueError:
            return self._unavailable(
                f"the LLM answered HTTP {status} with a body that is not JSON: "
                f"{clean(response.text, 120)!r}"
            )
        return read_answer(body, self.model)

    def _unavailable(self, why: str) -> Judgement:
        return unavailable(why, self.model)


def _their_words(response: httpx.Response) -> str:
    """What the service said, in one line: OpenAI's `error.message`, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return clean(str(error["message"]), WORDS_SHOWN)
    return clean(response.text, WORDS_SHOWN) or response.reason_phrase
