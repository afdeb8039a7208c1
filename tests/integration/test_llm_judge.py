"""The `llm` judge against a fake OpenAI-compatible API over HTTP: the request it sends, and
every way the service can fail read as no verdict (never a crash, never a pass)."""

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.fakes.llm import FakeLlm

from codegenapp.drivers.evaluator import Exhibit, JudgeBrief, Verdict
from codegenapp.drivers.evaluator.llm import Backoff, LlmJudge

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BRIEF = JudgeBrief("Show the shop", None, (Exhibit("page /", 'heading "Shop"', PNG),))
QUICK = Backoff(attempts=3, initial=0.01, maximum=0.05)


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with FakeLlm() as fake:
        yield fake


def _judge(llm: FakeLlm, *, api_key: str | None = None) -> LlmJudge:
    key = api_key if api_key is not None else llm.api_key
    return LlmJudge(llm.base_url, model=llm.model, api_key=key, backoff=QUICK)


async def test_the_verdict_is_asked_with_the_bearer_key_the_model_and_the_screenshot(
    llm: FakeLlm,
) -> None:
    llm.answer("meets", ["The shop's heading shows"])

    judgement = await _judge(llm).judge(BRIEF, timeout=10)

    assert judgement.verdict is Verdict.MEETS
    assert judgement.reasons == ("The shop's heading shows",)
    [request] = llm.requests
    assert request.status == 200
    assert request.authorization == f"Bearer {llm.api_key}"
    assert request.images == (PNG,)


async def test_a_rate_limit_and_a_server_error_are_asked_again_with_backoff(llm: FakeLlm) -> None:
    llm.fail(429)
    llm.fail(503)
    llm.answer("unsure", ["The goal is about the API"])

    judgement = await _judge(llm).judge(BRIEF, timeout=10)

    assert judgement.verdict is Verdict.UNSURE
    assert [request.status for request in llm.requests] == [429, 503, 200]


async def test_a_service_that_keeps_failing_gives_no_verdict_naming_what_it_said(
    llm: FakeLlm,
) -> None:
    llm.fail(500, n=3)

    judgement = await _judge(llm).judge(BRIEF, timeout=10)

    assert judgement.verdict is None
    assert judgement.no_verdict == (
        f"judge unavailable: {llm.base_url}/chat/completions answered HTTP 500: The server had "
        "an error while processing your request. Sorry about that! (asked 3 times, with backoff)"
    )


async def test_an_answer_that_is_not_json_gives_no_verdict(llm: FakeLlm) -> None:
    llm.answer_text("Looks good to me!")

    judgement = await _judge(llm).judge(BRIEF, timeout=10)

    assert judgement.verdict is None
    assert judgement.no_verdict == (
        "judge unavailable: the model's answer is not JSON: 'Looks good to me!'"
    )


async def test_a_wrong_key_gives_no_verdict_naming_the_setting_and_is_not_asked_again(
    llm: FakeLlm,
) -> None:
    judgement = await _judge(llm, api_key="sk-wrong-0000000000").judge(BRIEF, timeout=10)

    assert judgement.verdict is None
    assert "did not accept LLM_API_KEY (HTTP 401: Incorrect API key provided" in str(
        judgement.no_verdict
    )
    assert len(llm.requests) == 1
    assert len(llm.forgive()) == 1


async def test_a_service_that_is_not_there_gives_no_verdict() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    judge = LlmJudge(f"http://127.0.0.1:{port}/v1", model="m", api_key=None, backoff=QUICK)

    judgement = await judge.judge(BRIEF, timeout=10)

    assert judgement.verdict is None
    assert "judge unavailable: no answer from" in str(judgement.no_verdict)
    assert "ConnectError" in str(judgement.no_verdict)


GOOD = {
    "model": "judge-1",
    "messages": [
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": [{"type": "text", "text": "Is it done?"}]},
    ],
    "response_format": {"type": "json_object"},
}


def _user_part(part: dict[str, object]) -> dict[str, object]:
    return {**GOOD, "messages": [GOOD["messages"][0], {"role": "user", "content": [part]}]}  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({k: v for k, v in GOOD.items() if k != "model"}, 400, "you must provide a model"),
        ({**GOOD, "model": "gpt-5"}, 404, "The model `gpt-5` does not exist"),
        ({**GOOD, "messages": []}, 400, "empty array"),
        ({**GOOD, "messages": [{"role": "robot", "content": "x"}]}, 400, "'robot'"),
        ({**GOOD, "temperatur": 0}, 400, "Unrecognized request argument supplied: temperatur"),
        (_user_part({"type": "image", "data": "x"}), 400, "Invalid value: 'image'"),
        (
            _user_part({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}),
            400,
            "unsupported image",
        ),
        (
            _user_part({"type": "image_url", "image_url": {"url": "/tmp/shot.png"}}),
            400,
            "Invalid image URL",
        ),
        (
            {**GOOD, "messages": [{"role": "user", "content": "Is it done?"}]},
            400,
            "must contain the word 'json'",
        ),
    ],
)
async def test_the_fake_refuses_what_the_real_api_refuses(
    llm: FakeLlm, body: dict[str, object], status: int, words: str
) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {llm.api_key}"}) as http:
        response = await http.post(f"{llm.base_url}/chat/completions", json=body)

    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert len(llm.forgive()) == 1
