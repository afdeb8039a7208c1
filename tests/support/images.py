"""The test images (recipes under tests/images/<name>/), built here and imported into the test
daemon: there is no image registry to pull from.

Each recipe's `build.sh` fills a root file system (as root, with debootstrap or Debian's .deb
files); the result is kept as a tarball in `CACHE`, named by a hash of everything that went in
(the recipe's files, tests/images/lib.sh, the host files it copies, the Debian mirrors), so a
later session only runs `docker import`, and a daemon that already holds the image (labelled
with that hash and the import's `changes`) not even that. A change to `changes` alone (in
image.toml) imports the same tarball again, without building it. Building needs root; a build
takes a lock per image, so concurrent sessions build each image once.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RECIPES = Path(__file__).resolve().parents[1] / "images"
CACHE = Path("/var/cache/codegenapp-test-images")  # outside the repo: survives clean checkouts
KEY_LABEL = "codegenapp.recipe-key"
FORMAT = "1"  # part of every key: bump it when this module changes what an image holds
DEFAULT_MIRRORS = ("http://deb.debian.org/debian", "http://deb.debian.org/debian-security")
BUILD_TIMEOUT = 1200.0
IMPORT_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str
    changes: tuple[str, ...]  # Dockerfile instructions for `docker import --change`
    host_files: tuple[Path, ...]  # files build.sh copies from this machine

    @property
    def tag(self) -> str:
        return f"codegenapp-test/{self.name}"

    @property
    def directory(self) -> Path:
        return RECIPES / self.name


@dataclass(frozen=True, slots=True)
class TestImages:
    """Tags of the three test images, present in the daemon."""

    __test__ = False  # a value, not a pytest test class

    runtime: str  # Debian bookworm minbase: python3 + venv, Node.js + npm, git
    egress_proxy: str  # tinyproxy as the user `tinyproxy`
    tiny: str  # busybox-static


def ensure_test_images(host: str) -> TestImages:
    """Makes sure the daemon at `host` holds the current build of every test image."""
    return TestImages(
        runtime=ensure_image(host, "runtime"),
        egress_proxy=ensure_image(host, "egress-proxy"),
        tiny=ensure_image(host, "tiny"),
    )


def ensure_image(host: str, name: str) -> str:
    """Builds (or takes from the cache) and imports image `name`; returns its tag. Idempotent.

    Raises RuntimeError with the build's output when a recipe fails."""
    recipe = load_recipe(name)
    mirrors = debian_mirrors()
    key = recipe_key(recipe, mirrors)
    imported = import_key(recipe, key)
    CACHE.mkdir(parents=True, exist_ok=True)
    with _locked(CACHE / f"{name}.lock"):
        if _image_key(host, recipe.tag) == imported:
            return recipe.tag
        tarball = CACHE / f"{name}-{key}.tar"
        if not tarball.exists():
            _build(recipe, tarball, mirrors)
        started = time.monotonic()
        changes = [f"LABEL {KEY_LABEL}={imported}", *recipe.changes]
        _docker(host, "import", *(f"--change={c}" for c in changes), str(tarball), recipe.tag)
        log.info("imported %s in %.1f s", recipe.tag, time.monotonic() - started)
    return recipe.tag


def load_recipe(name: str) -> Recipe:
    with (RECIPES / name / "image.toml").open("rb") as file:
        spec = tomllib.load(file)
    return Recipe(
        name=name,
        changes=tuple(spec["changes"]),
        host_files=tuple(Path(path) for path in spec["host_files"]),
    )


def recipe_key(recipe: Recipe, mirrors: tuple[str, str]) -> str:
    """A hash of everything that decides what the root file system holds."""
    digest = hashlib.sha256(f"{FORMAT}\0{mirrors[0]}\0{mirrors[1]}\0".encode())
    files = sorted(
        path for path in recipe.directory.rglob("*") if path.is_file() and path.name != "image.toml"
    )
    for path in [RECIPES / "lib.sh", *files, *recipe.host_files]:
        digest.update(f"{path}\0{os.access(path, os.X_OK)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def import_key(recipe: Recipe, build: str) -> str:
    """A hash of the root file system's key and the import's changes: the image's identity."""
    digest = hashlib.sha256(build.encode())
    for change in recipe.changes:
        digest.update(f"\0{change}".encode())
    return digest.hexdigest()[:16]


def debian_mirrors() -> tuple[str, str]:
    """(archive, security archive) as this machine's apt is configured (deb822 sources)."""
    archive, security = DEFAULT_MIRRORS
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for paragraph in sources.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1)
                for line in paragraph.splitlines()
                if ":" in line and line[0] != "#"
            )
            uris, suites = fields.get("URIs", "").split(), fields.get("Suites", "").split()
            if uris and "bookworm" in suites:
                archive = uris[0]
            elif uris and "bookworm-security" in suites:
                security = uris[0]
    return archive, security


def _build(recipe: Recipe, tarball: Path, mirrors: tuple[str, str]) -> None:
    """Runs the recipe into a scratch root file system and packs it into `tarball`."""
    if os.geteuid() != 0:
        raise RuntimeError(
            f"building the test image {recipe.name} needs root (debootstrap, chroot)"
        )
    downloads = CACHE / "downloads"
    downloads.mkdir(exist_ok=True)
    root = CACHE / f"build-{recipe.name}"
    _remove_tree(root)  # a build killed halfway
    root.mkdir()
    started = time.monotonic()
    env = {
        **os.environ,
        "DOWNLOAD_CACHE": str(downloads),
        "DEBIAN_MIRROR": mirrors[0],
        "DEBIAN_SECURITY_MIRROR": mirrors[1],
    }
    try:
        done = subprocess.run(
            ["bash", str(recipe.directory / "build.sh"), str(root)],
            env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"building {recipe.tag} failed:\n{done.stdout}\n{done.stderr}")
        scratch = tarball.with_suffix(".partial")
        # Numeric owners: the image's users are the image's, whatever names this host gives them.
        _run("tar", "--numeric-owner", "--exclude=./proc/*", "--exclude=./sys/*",
             "-C", str(root), "-cf", str(scratch), ".")  # fmt: skip
        scratch.rename(tarball)
    finally:
        _remove_tree(root)
    for stale in CACHE.glob(f"{recipe.name}-*.tar"):
        if stale != tarball:
            stale.unlink()
    size = tarball.stat().st_size / 2**20
    log.info("built %s in %.0f s (%.0f MiB)", recipe.tag, time.monotonic() - started, size)


def _remove_tree(root: Path) -> None:
    """Removes a scratch root file system, after unmounting anything left mounted inside it
    (debootstrap mounts /proc and /sys there): never recurse into the host's."""
    with open("/proc/mounts") as mounts:
        inside = [line.split()[1] for line in mounts if line.split()[1].startswith(f"{root}/")]
    for mount_point in sorted(inside, reverse=True):
        _run("umount", "--lazy", mount_point)
    shutil.rmtree(root, ignore_errors=True)


def _image_key(host: str, tag: str) -> str | None:
    done = subprocess.run(
        ["docker", "--host", host, "image", "inspect", "--format",
         f'{{{{ index .Config.Labels "{KEY_LABEL}" }}}}', tag],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


def _docker(host: str, *args: str) -> None:
    _run("docker", "--host", host, *args, timeout=IMPORT_TIMEOUT)


def _run(*argv: str, timeout: float = 600.0) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield
