"""How much a page's screenshot changed from the base branch's: the share of pixels that differ,
for web_eval's before/after.

Full-page screenshots of two versions of a page rarely have the same height (a line added,
a section gone): they are compared over the area both cover, and what only one of them covers
counts as changed. A pixel has changed when a channel moved by more than PIXEL_TOLERANCE
(antialiasing and font hinting move a few levels between two renders of the same page).
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageChops

PIXEL_TOLERANCE = 24  # of 255, per channel
LARGE_CHANGE = 0.10  # of the pixels: what is reported as a large visual change
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded


class UnreadableImage(ValueError):
    """Not a PNG we can compare (corrupt, or too large)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    changed: float  # 0.0 … 1.0, of the union of both areas
    before_size: tuple[int, int]  # width, height
    after_size: tuple[int, int]

    @property
    def large(self) -> bool:
        return self.changed >= LARGE_CHANGE


def compare(before: bytes, after: bytes) -> Comparison:
    """Compare two PNG screenshots; raise `UnreadableImage` for one that cannot be read."""
    old, new = _open(before), _open(after)
    width, height = min(old.width, new.width), min(old.height, new.height)
    union = max(old.width, new.width) * max(old.height, new.height)
    overlap = (0, 0, width, height)
    red, green, blue = ImageChops.difference(old.crop(overlap), new.crop(overlap)).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)  # per pixel, any channel
    moved = largest.point(lambda level: 255 if level > PIXEL_TOLERANCE else 0)
    changed_inside = moved.histogram()[255]
    outside = union - width * height
    return Comparison(
        changed=(changed_inside + outside) / union if union else 0.0,
        before_size=old.size,
        after_size=new.size,
    )


def _open(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise UnreadableImage(f"not a PNG ({image.format})")
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableImage(f"too large ({image.width}×{image.height})")
            return image.convert("RGB")
    except (OSError, Image.DecompressionBombError) as error:
        raise UnreadableImage(str(error)) from error


@dataclass(frozen=True, slots=True)
class VisualChange:
    """One page's before/after, as findings.json keeps it under `visual_changes`."""

    path: str  # the page, as in the settings: "/cart"
    changed: float  # the share of pixels that differ, rounded to 0.001
    screenshot: str  # this validation's artifact: "page-1.png"
    base_screenshot: str  # the base branch's, copied beside it: "base-page-1.png"
    base: str  # which base: "main at abc1234"
    mentioned: bool  # the goal or plan names the page: a change there is expected
    large: bool  # changed >= LARGE_CHANGE
