"""Secrets are masked in every spelling a log may carry them."""

import base64
import random
import string
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from codegenapp.domain.masking import MASK, Masker, looks_secret, strip_ansi

SECRET = "s3cr3t/Tok+en=value"
# Every spelling of this one differs from the others: a space, a slash, a plus, a byte above
# ASCII, and base64 holding both characters that the URL-safe alphabet replaces.
SPELLED = "p@ss w/rd+?é~ok"

SPELLINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda s: s,
    "url-encoded": lambda s: quote(s, safe=""),
    "url-encoded keeping slashes": lambda s: quote(s),
    "form-encoded": lambda s: quote_plus(s),
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 unpadded": lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
    "url-safe base64": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "url-safe base64 unpadded": lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    "hex": lambda s: s.encode().hex(),
    "upper-case hex": lambda s: s.encode().hex().upper(),
}
ENCODERS = {"standard": base64.b64encode, "url-safe": base64.urlsafe_b64encode}


def test_the_spellings_under_test_are_all_different() -> None:
    forms = [spell(SPELLED) for spell in SPELLINGS.values()]
    assert len(set(forms)) == len(forms)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_secret_is_masked_in_each_of_its_spellings(spelling: str) -> None:
    form = SPELLINGS[spelling](SPELLED)
    assert Masker.for_secrets([SPELLED]).mask(f"value={form};") == f"value={MASK};"


@pytest.mark.parametrize("alphabet", ENCODERS)
@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"user:"])
def test_a_secret_inside_base64_is_masked_at_any_alignment(prefix: bytes, alphabet: str) -> None:
    encode = ENCODERS[alphabet]
    encoded = encode(prefix + SECRET.encode() + b"-tail").decode()
    masked = Masker.for_secrets([SECRET]).mask(f"Authorization: Basic {encoded}")
    # The groups made only of the secret's bytes are gone; those of the prefix stay.
    first_group = -(-len(prefix) // 3)
    last_group = (len(prefix) + len(SECRET)) // 3
    core = encoded[4 * first_group : 4 * last_group]
    assert MASK in masked
    assert core not in masked
    assert masked.startswith(f"Authorization: Basic {encoded[: 4 * (len(prefix) // 3)]}")


@pytest.mark.parametrize("prefix", ["", "f", "00", "c0ffee"])
def test_a_secret_inside_hex_is_masked_at_either_parity(prefix: str) -> None:
    dump = f"{prefix}{SPELLED.encode().hex()}0d0a"
    assert Masker.for_secrets([SPELLED]).mask(f"bytes: {dump}") == f"bytes: {prefix}{MASK}0d0a"


def test_raw_and_url_encoded_secrets_are_masked() -> None:
    masker = Masker.for_secrets([SECRET])
    text = f"token={SECRET} url=https://x/?t={quote(SECRET, safe='')}"
    assert masker.mask(text) == f"token={MASK} url=https://x/?t={MASK}"


def test_hex_in_mixed_case_is_masked_too() -> None:
    mixed = "".join(c.upper() if n % 2 else c for n, c in enumerate(SPELLED.encode().hex()))
    assert Masker.for_secrets([SPELLED]).mask(f"dump {mixed}") == f"dump {MASK}"


@pytest.mark.parametrize("order", [1, -1])
def test_the_longest_secret_wins_when_one_contains_another(order: int) -> None:
    masker = Masker.for_secrets(["abcd1234", "abcd1234efgh"][::order])
    assert masker.mask("xx abcd1234efgh yy") == f"xx {MASK} yy"
    assert masker.mask("xx abcd1234 yy") == f"xx {MASK} yy"


def test_overlapping_secrets_leave_no_fragment_of_either() -> None:
    masker = Masker.for_secrets(["abcd1234", "1234wxyz"])
    assert masker.mask("xx abcd1234wxyz yy") == f"xx {MASK} yy"
    assert masker.mask("xx 1234wxyzabcd1234 yy") == f"xx {MASK}{MASK} yy"
    hexed = b"abcd1234wxyz".hex()  # both hex spellings overlap, as the secrets do
    assert masker.mask(f"xx {hexed} yy") == f"xx {MASK} yy"


def test_a_chain_of_overlapping_secrets_is_masked_whole() -> None:
    # The middle one is skipped by a forward pass that finds the first and the last.
    masker = Masker.for_secrets(["abcdef", "efghij", "ijklmn"])
    assert masker.mask("xx abcdefghijklmn yy") == f"xx {MASK} yy"


def test_a_secret_overlapping_itself_leaves_no_fragment() -> None:
    masker = Masker.for_secrets(["abab"])
    assert masker.mask("ababab abab") == f"{MASK} {MASK}"


def test_adjacent_secrets_are_masked_one_by_one() -> None:
    masker = Masker.for_secrets(["abcd1234", "wxyz5678"])
    assert masker.mask("abcd1234wxyz5678") == MASK + MASK


def test_unicode_secrets_are_masked_in_unicode_text() -> None:
    secret = "pässwörd-日本語-🔑"
    masker = Masker.for_secrets([secret])
    encoded = base64.b64encode(secret.encode()).decode()
    text = f"✓ step → {secret} ━━ {encoded} ━━ {secret.encode().hex()} ✓"
    assert masker.mask(text) == f"✓ step → {MASK} ━━ {MASK} ━━ {MASK} ✓"


def test_lone_surrogates_in_a_log_or_a_secret_are_not_an_error() -> None:
    masker = Masker.for_secrets(["x\udcffyz-secret"])
    assert masker.mask("a \ud800 x\udcffyz-secret b") == f"a \ud800 {MASK} b"


def test_a_value_that_was_not_utf8_is_masked_in_the_encodings_of_its_bytes() -> None:
    original = b"x\xffyz-secret"
    value = original.decode("utf-8", "surrogateescape")  # as os.environ has it
    text = f"{base64.b64encode(original).decode()} {original.hex()}"
    assert Masker.for_secrets([value]).mask(text) == f"{MASK} {MASK}"


def test_very_short_values_are_not_treated_as_secrets() -> None:
    assert Masker.for_secrets(["ab"]).mask("about") == "about"
    # Nor are their longer spellings: hex and base64 of "abc" are long enough to match.
    assert Masker.for_secrets(["abc"]).mask("abc 616263 YWJj") == "abc 616263 YWJj"


def test_a_masker_without_secrets_returns_the_text_itself() -> None:
    text = "nothing to hide"
    assert Masker.for_secrets([]).mask(text) is text
    assert Masker.for_secrets(["ab"]).mask(text) is text
    assert Masker.for_secrets(["hunter22"]).mask(text) is text


def test_a_masker_over_ten_thousand_secrets_masks_each_of_them() -> None:
    rng = random.Random(42)
    alphabet = string.ascii_letters + string.digits + "-_"
    secrets = ["".join(rng.choices(alphabet, k=40)) for _ in range(10_000)]
    masker = Masker.for_secrets(secrets)
    spellings = list(SPELLINGS.values())
    lines, expected = [], []
    for n, secret in enumerate(secrets):
        if n % 97 == 0:
            form = spellings[n % len(spellings)](secret)
            lines.append(f"step {n}: export VALUE={form} done")
            expected.append(f"step {n}: export VALUE={MASK} done")
        else:
            lines.append(f"step {n}: compiling module_{n}.py")
            expected.append(lines[-1])
    assert masker.mask("\n".join(lines)) == "\n".join(expected)


def test_credential_named_variables_are_secrets_and_others_are_not() -> None:
    env = {"API_KEY": "abcd1234", "DB_PASSWORD": "hunter22", "GREETING": "hello world"}
    masked = Masker.for_environment(env).mask("abcd1234 hunter22 hello world")
    assert masked == f"{MASK} {MASK} hello world"
    assert looks_secret("GITHUB_TOKEN")
    assert not looks_secret("PORT")


def test_terminal_escapes_are_stripped() -> None:
    assert strip_ansi("\x1b[31mred\x1b[0m \x1b]0;title\x07done") == "red done"
