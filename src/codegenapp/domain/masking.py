"""Secret masking for every log we store, stream or hand to an agent.

A secret leaks in more than one spelling: raw, URL-encoded (connection strings), base64 in
either alphabet (HTTP basic auth, k8s manifests, JWTs) and hex in either case (debug dumps).
All are replaced.

Matching is Aho-Corasick (`ahocorasick_rs`), so its cost grows with the length of the text and
the total size of the secrets, never with their number: a regex alternation of every spelling
froze the service for two minutes on a project with 5,000 secret-named variables.
"""

import binascii
import bisect
import heapq
import itertools
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from ahocorasick_rs import BytesAhoCorasick, MatchKind

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text: refused as secrets
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL)", re.I)
# CSI (7-bit and C1), OSC, and DCS/SOS/PM/APC strings with their content, then any other
# two-character escape.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]"
)

# We match UTF-8 bytes rather than str: byte offsets survive translating, decoding and
# reversing the text, and bytes.translate stays C-speed when the log holds a single non-ASCII
# character (str.translate is then ~50x slower). `surrogatepass` because a log may carry lone
# surrogates and masking must never be the thing that fails.
_UTF8_ERRORS = "surrogatepass"
_MASK_BYTES = MASK.encode()

# Base64 and hex are found by decoding the text, not by encoding the secrets. A secret sits
# inside a longer encoded value at any alignment; its encodings at every alignment, in both
# alphabets and both cases, would be a dozen more patterns per secret and most of the build
# time of a large masker (0.55 s instead of 0.1 s for 10,000 secrets). The views turn every
# byte that cannot be part of an encoding into a digit, so that decoding never stops and
# offsets never move; a match is genuine only if every character it covers was a digit of
# the encoding in the first place.
_HEX_DIGITS = string.hexdigits.encode()
_HEX_VIEW = bytes.maketrans(
    bytes(range(256)), bytes(c if c in _HEX_DIGITS else ord("0") for c in bytes(range(256)))
)
_BASE64_DIGITS = (string.ascii_letters + string.digits + "+/-_").encode()
_BASE64_VIEW = bytes.maketrans(
    bytes(range(256)),
    bytes(c if c in _BASE64_DIGITS else ord("A") for c in bytes(range(256))).translate(
        bytes.maketrans(b"-_", b"+/")  # the URL-safe alphabet decodes as the standard one
    ),
)


def strip_ansi(text: str) -> str:
    """Remove colour and cursor escape sequences, which mean nothing to a reader of stored text."""
    return _ANSI.sub("", text)


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return bool(_SECRET_NAME.search(name))


def _secret_bytes(secret: str) -> bytes:
    # An environment value that was not UTF-8 reaches us with its bytes smuggled as
    # surrogates; a program encoding the value encodes those original bytes.
    try:
        return secret.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return secret.encode("utf-8", _UTF8_ERRORS)


@dataclass(frozen=True, slots=True, eq=False)
class _Scan:
    """An automaton of spellings, finding every occurrence of each, overlapping ones too: two
    secrets may share text ("abcd1234" and "1234wxyz" in "abcd1234wxyz"), and a scan that
    resumes after each match would let the second one's tail through."""

    automaton: BytesAhoCorasick

    @classmethod
    def of(cls, forms: set[bytes]) -> "_Scan | None":
        return cls(BytesAhoCorasick(forms, matchkind=MatchKind.Standard)) if forms else None

    def spans(self, haystack: bytes) -> list[tuple[int, int]]:
        """Byte ranges to mask, in ascending order of their start."""
        found = self.automaton.find_matches_as_indexes(haystack, overlapping=True)
        return sorted((start, end) for _, start, end in found)


def _decodings(data: bytes) -> list[bytes]:
    """The text decoded as base64 from each of its first four bytes, then as hex from each of
    its first two: a secret's encoding starts at one of those alignments."""
    # Unpadded base64 may end the text in the middle of a group: complete it.
    base64 = data.translate(_BASE64_VIEW) + b"AAA"
    hexadecimal = data.translate(_HEX_VIEW)
    b, h = len(base64), len(hexadecimal)
    return [
        binascii.a2b_base64(base64[0 : b // 4 * 4]),
        binascii.a2b_base64(base64[1 : 1 + (b - 1) // 4 * 4]),
        binascii.a2b_base64(base64[2 : 2 + (b - 2) // 4 * 4]),
        binascii.a2b_base64(base64[3 : 3 + (b - 3) // 4 * 4]),
        binascii.unhexlify(hexadecimal[0 : h // 2 * 2]),
        binascii.unhexlify(hexadecimal[1 : 1 + (h - 1) // 2 * 2]),
    ]


def _in_decodings(scan: _Scan, data: bytes) -> list[list[tuple[int, int]]]:
    """Byte ranges of `data` whose decoding holds a secret, one ascending list per alignment."""
    decodings = _decodings(data)
    # One search over all six, because on a short text the cost is in the calls. The
    # separator is never in UTF-8, so no secret's bytes span two decodings.
    found = scan.spans(b"\xff".join(decodings))
    if not found:
        return []
    ends = list(itertools.accumulate(len(decoding) + 1 for decoding in decodings))
    local: list[list[tuple[int, int]]] = [[] for _ in decodings]
    for start, end in found:
        k = bisect.bisect_right(ends, start)
        base = ends[k - 1] if k else 0
        if start - base < len(decodings[k]):  # else it starts on a separator
            local[k].append((start - base, min(end - base, len(decodings[k]))))
    spans = []
    for offset, matches in enumerate(local[:4]):
        # Every character carrying a bit of the secret is masked, the first and last included
        # though they carry bits of the neighbouring bytes too: they tell most of a byte.
        chars = [
            (offset + start * 4 // 3, offset + (end * 8 - 1) // 6 + 1) for start, end in matches
        ]
        spans.append(
            [_padded(span, data, offset) for span in _genuine(chars, data, _BASE64_DIGITS)]
        )
    for offset, matches in enumerate(local[4:]):
        chars = [(offset + 2 * start, offset + 2 * end) for start, end in matches]
        spans.append(_genuine(chars, data, _HEX_DIGITS))
    return spans


def _genuine(spans: list[tuple[int, int]], data: bytes, digits: bytes) -> list[tuple[int, int]]:
    return [
        (start, end)
        for start, end in spans
        if start < end <= len(data) and not data[start:end].translate(None, digits)
    ]


def _padded(span: tuple[int, int], data: bytes, offset: int) -> tuple[int, int]:
    # Padding after the secret's last character is the end of its spelling: mask it with it.
    start, end = span
    while end < len(data) and (end - offset) % 4 and data[end] == ord("="):
        end += 1
    return start, end


@dataclass(frozen=True, slots=True)
class Masker:
    """Replaces every known secret, in each of its spellings, with `***`."""

    in_text: _Scan | None  # raw and URL-encoded spellings, as the text carries them
    in_decoded: _Scan | None  # the secrets' bytes, in the text decoded as base64 or hex

    @classmethod
    def for_secrets(cls, secrets: Iterable[str]) -> "Masker":
        spellings: set[bytes] = set()
        encoded: set[bytes] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            data = _secret_bytes(secret)
            encoded.add(data)
            spellings |= {
                secret.encode("utf-8", _UTF8_ERRORS),
                quote(data, safe="").encode(),
                quote(data).encode(),
                quote_plus(data).encode(),
            }
        # Almost always the secrets' bytes are their raw spellings: one automaton serves
        # both, and masking URL-encoded spellings once more inside base64 does no harm.
        if encoded <= spellings:
            shared = _Scan.of(spellings)
            return cls(shared, shared)
        return cls(_Scan.of(spellings), _Scan.of(encoded))

    @classmethod
    def for_environment(cls, env: Mapping[str, str], extra: Iterable[str] = ()) -> "Masker":
        """A masker for the values of credential-named variables, plus `extra` secrets."""
        values = [value for name, value in env.items() if looks_secret(name)]
        return cls.for_secrets([*values, *extra])

    def mask(self, text: str) -> str:
        if self.in_text is None or self.in_decoded is None:
            return text
        data = text.encode("utf-8", _UTF8_ERRORS)
        found = [self.in_text.spans(data), *_in_decodings(self.in_decoded, data)]
        if not any(found):
            return text
        spans = heapq.merge(*found)
        pieces: list[bytes] = []
        done = 0  # everything before this offset is copied or masked
        for start, end in spans:
            if start >= done:
                # Touching matches stay two masks, as they always have.
                pieces += (data[done:start], _MASK_BYTES)
                done = end
            elif end > done:
                done = end  # overlapping matches become one mask
        pieces.append(data[done:])
        return b"".join(pieces).decode("utf-8", _UTF8_ERRORS)
