"""Before/after screenshots: how much of a page changed, on images made here."""

import io

import pytest
from PIL import Image

from codegenapp.drivers.evaluator.visual import UnreadableImage, compare


def png(width: int, height: int, colour: tuple[int, int, int], *, band: int = 0) -> bytes:
    """A `colour` image whose top `band` rows are black."""
    image = Image.new("RGB", (width, height), colour)
    if band:
        image.paste((0, 0, 0), (0, 0, width, band))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_same_page_has_not_changed() -> None:
    result = compare(png(100, 80, (255, 255, 255)), png(100, 80, (255, 255, 255)))
    assert result.changed == 0.0
    assert not result.large


def test_rendering_noise_under_the_tolerance_is_no_change() -> None:
    assert compare(png(50, 50, (200, 200, 200)), png(50, 50, (210, 195, 205))).changed == 0.0


def test_a_change_in_one_channel_counts() -> None:
    assert compare(png(10, 10, (0, 0, 0)), png(10, 10, (0, 0, 200))).changed == 1.0


def test_half_the_page_changed() -> None:
    result = compare(png(100, 100, (255, 255, 255)), png(100, 100, (255, 255, 255), band=50))
    assert result.changed == pytest.approx(0.5)
    assert result.large


def test_what_only_one_screenshot_covers_counts_as_changed() -> None:
    result = compare(png(100, 100, (255, 255, 255)), png(100, 125, (255, 255, 255)))
    assert result.changed == pytest.approx(0.2)  # 25 new rows of 125
    assert (result.before_size, result.after_size) == ((100, 100), (100, 125))


def test_what_is_not_a_png_is_refused() -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4)).save(jpeg, format="JPEG")
    for data in (b"not an image", jpeg.getvalue()):
        with pytest.raises(UnreadableImage):
            compare(data, png(4, 4, (0, 0, 0)))
