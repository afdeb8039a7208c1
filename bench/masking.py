"""Cost of secret masking for a project with very many secrets.

10,000 random secrets (40 URL-safe characters each) and 1 MB of build log with ~100 of them
planted in their various spellings: the time to build the masker, the time to mask the log,
medians of 5 runs. Target: build + mask under 1 s. The former masker (one `re` alternation of
every spelling, longest first) is timed side by side on 500 secrets, because on 10,000 it takes
minutes. Run: `.venv/bin/python bench/masking.py [--runs N]`.
"""

import argparse
import base64
import random
import re
import statistics
import string
import sys
import time
from collections.abc import Callable, Iterable
from urllib.parse import quote

from codegenapp.domain.masking import MASK, Masker
from machine import describe

TARGET_S = 1.0
SECRETS = 10_000
SECRET_LENGTH = 40
LOG_BYTES = 1_000_000
PLANTED = 100
URL_SAFE = string.ascii_letters + string.digits + "-_"


def old_masker(secrets: Iterable[str]) -> Callable[[str], str]:
    """The former masker, verbatim but for its shape: a regex of every spelling."""

    def spellings(secret: str) -> set[str]:
        raw = secret.encode()
        forms = {secret, quote(secret, safe=""), base64.b64encode(raw).decode()}
        for shift in (0, 1, 2):
            encoded = base64.b64encode(b"\x00" * shift + raw).decode()
            first_group = 1 if shift else 0
            last_group = (shift + len(raw)) // 3
            core = encoded[4 * first_group : 4 * last_group]
            if len(core) >= 8:
                forms.add(core)
        return {form for form in forms if len(form) >= 4}

    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= 4:
            forms |= spellings(secret)
    ordered = sorted(forms, key=len, reverse=True)
    re.purge()  # its cache would hide the compile that every new masker paid
    pattern = re.compile("|".join(re.escape(form) for form in ordered))
    return lambda text: pattern.sub(MASK, text)


def plant(secret: str, rng: random.Random) -> tuple[str, list[str]]:
    """A log fragment carrying `secret` in one spelling, and what must not survive masking."""
    raw = secret.encode()
    b64, url_safe = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    choice = rng.randrange(8)
    if choice == 0:
        return f"+ export DEPLOY_TOKEN={secret}", [secret]
    if choice == 1:
        return f"Connecting to postgres://app:{quote(secret, safe='')}@db:5432/app", [secret]
    if choice == 2:
        return f"  auth: {b64}", [b64, b64.rstrip("=")]
    if choice == 3:
        return f"GET /callback?state={url_safe.rstrip('=')} 302", [url_safe.rstrip("=")]
    if choice == 4:
        return f"debug: key bytes {raw.hex()}", [raw.hex()]
    if choice == 5:
        return f"debug: KEY={raw.hex().upper()}", [raw.hex().upper()]
    # A secret inside a longer encoded value: HTTP basic auth, at every byte alignment.
    user = rng.choice(["ci", "bot", "deploy"]) + ":"
    encoded = base64.b64encode(user.encode() + raw).decode()
    first_group, last_group = -(-len(user) // 3), (len(user) + len(raw)) // 3
    if choice == 6:
        return f"> Authorization: Basic {encoded}", [encoded[4 * first_group : 4 * last_group]]
    encoded = base64.urlsafe_b64encode(user.encode() + raw).decode().rstrip("=")
    return f"  -> token {encoded}", [encoded[4 * first_group : 4 * last_group]]


def build_log(secrets: list[str], rng: random.Random) -> tuple[str, list[list[str]]]:
    """Build output that looks like ours (pip, compilers, docker, pytest, progress bars)."""
    templates: list[Callable[[int], str]] = [
        lambda n: f"  Downloading package_{n % 700}-{n % 9}.{n % 13}.0-py3-none-any.whl (48 kB)",
        lambda n: f"[{n % 60:02d}/60] Compiling src/module_{n}.c -O2 -Wall -fPIC",
        lambda n: f" ---> sha256:{rng.getrandbits(256):064x}",
        lambda n: f"tests/test_feature_{n % 300}.py::test_case_{n} PASSED [{n % 100:3d}%]",
        lambda n: f"  integrity sha512-{base64.b64encode(rng.randbytes(48)).decode()}",
        lambda n: f"commit {rng.getrandbits(160):040x} Merge branch 'feature-{n}'",
        lambda n: f"✓ step {n} done in 0.{n % 1000:03d}s ━━━━━━━━━━━━━━━━ 100% • 1.2 MB/s",
        lambda n: f"2025-01-01T12:{n % 60:02d}:{n % 60:02d}Z INFO worker-{n % 8} handled {n}",
    ]
    planted = rng.sample(range(len(secrets)), PLANTED)
    lines: list[str] = []
    forbidden: list[list[str]] = []
    size, n = 0, 0
    while size < LOG_BYTES:
        line = templates[n % len(templates)](n)
        lines.append(line)
        size += len(line.encode()) + 1
        n += 1
    for index in planted:
        fragment, must_go = plant(secrets[index], rng)
        lines.insert(rng.randrange(len(lines)), fragment)
        forbidden.append(must_go)
    return "\n".join(lines) + "\n", forbidden


def median_times(
    make: Callable[[], Callable[[str], str]], text: str, runs: int
) -> tuple[float, float, str]:
    builds, masks, out = [], [], ""
    for _ in range(runs):
        started = time.perf_counter()
        mask = make()
        built = time.perf_counter()
        out = mask(text)
        done = time.perf_counter()
        builds.append(built - started)
        masks.append(done - built)
    return statistics.median(builds), statistics.median(masks), out


def row(label: str, build: float, mask: float) -> str:
    return f"{label:<30}{build * 1000:>9.1f}ms{mask * 1000:>9.1f}ms{(build + mask) * 1000:>9.1f}ms"


def main(runs: int, old_count: int, old_runs: int) -> int:
    rng = random.Random(20250101)
    secrets = ["".join(rng.choices(URL_SAFE, k=SECRET_LENGTH)) for _ in range(SECRETS)]
    text, forbidden = build_log(secrets, rng)
    print(
        f"secret masking benchmark: {SECRETS:,} secrets of {SECRET_LENGTH} characters, "
        f"{len(text.encode()) / 1e6:.2f} MB of build log, {PLANTED} planted spellings"
    )
    print(f"machine: {describe()}")
    print(f"\n{'masker':<30}{'build':>11}{'mask':>11}{'total':>11}")

    build, mask, out = median_times(lambda: Masker.for_secrets(secrets).mask, text, runs)
    print(row(f"new, {SECRETS:,} secrets ({runs} runs)", build, mask))
    leaked = [form for forms in forbidden for form in forms if form in out]
    assert not leaked, f"planted spellings survived masking: {leaked[:3]}"
    masked = out.count(MASK)
    assert masked == PLANTED, f"{masked} masks for {PLANTED} planted spellings"

    subset = secrets[:old_count]
    old_build, old_mask, _ = median_times(lambda: old_masker(subset), text, old_runs)
    new_build, new_mask, _ = median_times(lambda: Masker.for_secrets(subset).mask, text, old_runs)
    print(row(f"old (re), {old_count:,} secrets ({old_runs} runs)", old_build, old_mask))
    print(row(f"new, {old_count:,} secrets ({old_runs} runs)", new_build, new_mask))

    total = build + mask
    ratio = (old_build + old_mask) / (new_build + new_mask)
    print(f"\nmasked {masked} of {PLANTED} planted spellings; none of them left in the output")
    print(f"ratio old / new, build + mask of {old_count:,} secrets: {ratio:.1f}x")
    verdict = "PASS" if total < TARGET_S else "FAIL"
    print(
        f"{verdict}: build + mask of {SECRETS:,} secrets over 1 MB took {total * 1000:.1f} ms "
        f"(target < {TARGET_S * 1000:.0f} ms)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-secrets", type=int, default=500)
    parser.add_argument("--old-runs", type=int, default=3)
    arguments = parser.parse_args()
    sys.exit(main(arguments.runs, arguments.old_secrets, arguments.old_runs))
