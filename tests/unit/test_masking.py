"""Secrets are masked in every spelling a log may carry them."""

import base64
from urllib.parse import quote

import pytest

from codegenapp.domain.masking import MASK, Masker, looks_secret, strip_ansi

SECRET = "s3cr3t/Tok+en=value"


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"user:"])
def test_a_secret_inside_base64_is_masked_at_any_alignment(prefix: bytes) -> None:
    encoded = base64.b64encode(prefix + SECRET.encode() + b"-tail").decode()
    masked = Masker.for_secrets([SECRET]).mask(f"Authorization: Basic {encoded}")
    assert MASK in masked
    assert base64.b64encode(SECRET.encode()).decode()[4:-4] not in masked


def test_raw_and_url_encoded_secrets_are_masked() -> None:
    masker = Masker.for_secrets([SECRET])
    text = f"token={SECRET} url=https://x/?t={quote(SECRET, safe='')}"
    assert masker.mask(text) == f"token={MASK} url=https://x/?t={MASK}"


def test_credential_named_variables_are_secrets_and_others_are_not() -> None:
    env = {"API_KEY": "abcd1234", "DB_PASSWORD": "hunter22", "GREETING": "hello world"}
    masked = Masker.for_environment(env).mask("abcd1234 hunter22 hello world")
    assert masked == f"{MASK} {MASK} hello world"
    assert looks_secret("GITHUB_TOKEN")
    assert not looks_secret("PORT")


def test_very_short_values_are_not_treated_as_secrets() -> None:
    assert Masker.for_secrets(["ab"]).mask("about") == "about"


def test_terminal_escapes_are_stripped() -> None:
    assert strip_ansi("\x1b[31mred\x1b[0m \x1b]0;title\x07done") == "red done"
