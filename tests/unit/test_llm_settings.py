"""The AI judge's server settings: which judge they make, and its key kept out of every log."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from codegenapp.drivers.registry import llm_judge
from codegenapp.main import host_secrets
from codegenapp.settings import Settings


def test_a_judge_needs_a_base_url_and_a_model_and_the_key_is_optional(tmp_path: Path) -> None:
    assert llm_judge(Settings(home=tmp_path, llm_base_url="http://127.0.0.1:1/v1")) is None
    assert llm_judge(Settings(home=tmp_path, llm_model="gpt-4o")) is None
    judge = llm_judge(
        Settings(home=tmp_path, llm_base_url="https://api.example.com/v1/", llm_model="gpt-4o")
    )
    assert judge is not None
    assert (judge.base_url, judge.model) == ("https://api.example.com/v1", "gpt-4o")


def test_the_llm_key_is_one_of_our_secrets_masked_in_every_log(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, llm_api_key="sk-judge-key-0123456789")
    assert "sk-judge-key-0123456789" in host_secrets(settings)
    assert "sk-judge-key-0123456789" not in repr(settings)


def test_a_base_url_that_is_not_http_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="llm_base_url") as refused:
        Settings(home=tmp_path, llm_base_url="api.openai.com/v1")
    assert "must be an http(s):// URL" in str(refused.value)
