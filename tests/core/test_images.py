"""Images: a user's picture becomes an MNIST-style digit (uint8 [28, 28], white ink on black),
whatever its mode; bad files raise ImageError; upscale/tile/PNG/GIF helpers are exact."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw, ImageFile

from vae_core.errors import ImageError
from vae_core.images import DIGIT_BOX, MAX_PIXELS, gif_bytes, png_bytes, prepare_image, tile, upscale

from helpers.data import FUZZ


# --- helpers ------------------------------------------------------------------------------------

def draw_seven(size=(600, 450), ink=0, paper=255, mode="L", at=(0, 0), width=24) -> Image.Image:
    """A '7': a horizontal bar on top, a long diagonal down to the bottom left."""
    image = Image.new(mode, size, paper)
    x, y = at
    ImageDraw.Draw(image).line([(200 + x, 80 + y), (380 + x, 80 + y), (260 + x, 380 + y)], fill=ink, width=width)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def ink_box(out: np.ndarray, threshold: int = 0) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), inclusive, of pixels brighter than ``threshold``."""
    rows, cols = np.nonzero(out > threshold)
    return rows.min(), rows.max(), cols.min(), cols.max()


def centre_of_mass(out: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(out.shape)
    mass = out.astype(np.float64).sum()
    return (ys * out).sum() / mass, (xs * out).sum() / mass


def assert_mnist_style(out: np.ndarray) -> None:
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    assert out.max() == 255  # full-strength ink
    top, bottom, left, right = ink_box(out)
    height, width = bottom - top + 1, right - left + 1
    assert height <= DIGIT_BOX and width <= DIGIT_BOX
    assert max(height, width) >= DIGIT_BOX - 1  # fitted to the 20x20 box
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    # Black background: the border of the 28x28 canvas and the corners are empty.
    assert out[0].max() == 0 and out[:, 0].max() == 0 and out[:, -1].max() == 0


def assert_same_digit(out: np.ndarray, reference: np.ndarray, mean_tolerance: float = 0.5) -> None:
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    diff = np.abs(out.astype(int) - reference.astype(int))
    assert diff.mean() <= mean_tolerance, f"mean difference {diff.mean():.2f}"
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.98


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """The '7' drawn black on a large white grayscale image, prepared."""
    return prepare_image(draw_seven())


# --- MNIST-style preparation --------------------------------------------------------------------

def test_black_stroke_on_a_large_white_rgb_image(reference):
    out = prepare_image(encode(draw_seven(size=(1200, 900), ink="black", paper="white", mode="RGB",
                                          at=(300, 200), width=40)))
    assert_mnist_style(out)
    top, bottom, left, right = ink_box(out)
    assert bottom - top + 1 == DIGIT_BOX  # the '7' is taller than wide: its height is the one fitted
    assert right - left + 1 < DIGIT_BOX - 4
    # Orientation is kept: the top row of ink is the bar (wide), the bottom row the foot of the stroke (narrow),
    # and the foot lies left of the bar's right end.
    top_row, bottom_row = np.nonzero(out[top] > 64)[0], np.nonzero(out[bottom] > 64)[0]
    assert len(top_row) >= 4 * len(bottom_row) > 0
    assert bottom_row.max() < top_row.max()
    assert_mnist_style(reference)


def test_white_ink_on_black_is_not_inverted(reference):
    out = prepare_image(draw_seven(ink=255, paper=0))
    assert_mnist_style(out)
    assert np.abs(out.astype(int) - reference).max() <= 1  # same digit, same polarity


def test_position_in_the_picture_does_not_matter(reference):
    for at in [(-180, -60), (200, 60), (-190, 60)]:
        assert np.array_equal(prepare_image(draw_seven(at=at)), reference)


def test_a_thin_stroke_in_a_big_photo_keeps_its_ink():
    """A 2-pixel pen line in a 3000x3000 picture shrinks 100-fold; it must not vanish."""
    image = draw_seven(size=(3000, 3000), at=(1000, 1000), width=2)
    image = image.resize((3000, 3000))  # same picture; just large
    out = prepare_image(image)
    assert_mnist_style(out)
    assert (out > 128).sum() >= 15  # a visible stroke, not a few specks


def test_specks_far_apart_do_not_crash():
    image = Image.new("L", (4000, 4000), 255)
    image.putpixel((100, 100), 0)
    image.putpixel((3900, 3900), 0)
    try:
        out = prepare_image(image)
    except ImageError as e:
        assert "no digit" in str(e)
    else:
        assert out.dtype == np.uint8 and out.shape == (28, 28)


@pytest.mark.parametrize("shape,box", [((200, 30), (200, 30)), ((30, 200), (30, 200))])
def test_aspect_ratio_is_kept(shape, box):
    """A tall thin bar stays tall and thin; a wide flat one stays wide and flat."""
    height, width = box
    image = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(image).rectangle([100, 100, 100 + width - 1, 100 + height - 1], fill=0)
    out = prepare_image(image)
    top, bottom, left, right = ink_box(out)
    long_side, short_side = sorted([bottom - top + 1, right - left + 1], reverse=True)
    assert long_side == DIGIT_BOX
    assert 2 <= short_side <= 4  # 30/200 of 20 = 3
    assert ((bottom - top) > (right - left)) == (height > width)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_centre_of_mass_not_bounding_box_is_centred():
    """An 'L' is heavy at the bottom left: its box is shifted so that its mass sits in the middle."""
    image = Image.new("L", (400, 400), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle([100, 50, 130, 350], fill=0)
    draw.rectangle([100, 320, 300, 350], fill=0)
    out = prepare_image(image)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    top, bottom, left, right = ink_box(out)
    assert (left + right) / 2 > 14.5  # the box itself is off-centre, towards the right


# --- every kind of image ------------------------------------------------------------------------

def rgba_canvas(ink, transparent=(0, 0, 0, 0)) -> Image.Image:
    """Strokes on a transparent drawing canvas, as a browser sketch pad exports them."""
    return draw_seven(mode="RGBA", ink=ink, paper=transparent)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: rgba_canvas((255, 255, 255, 255)), id="RGBA-white-strokes"),
    pytest.param(lambda: rgba_canvas((0, 0, 0, 255)), id="RGBA-black-strokes"),
    pytest.param(lambda: rgba_canvas((255, 255, 255, 255), transparent=(255, 255, 255, 0)),
                 id="RGBA-white-strokes-white-transparent"),
    pytest.param(lambda: rgba_canvas((0, 0, 0, 255), transparent=(0, 0, 0, 0)), id="RGBA-black-on-black-transparent"),
    pytest.param(lambda: draw_seven(mode="RGBA", ink=(0, 0, 0, 255), paper=(255, 255, 255, 255)), id="RGBA-opaque"),
    pytest.param(lambda: draw_seven(mode="LA", ink=(255, 255), paper=(0, 0)), id="LA-white-strokes"),
    pytest.param(lambda: draw_seven(mode="LA", ink=(0, 255), paper=(0, 0)), id="LA-black-strokes"),
    pytest.param(lambda: draw_seven().convert("1"), id="1"),
    pytest.param(lambda: draw_seven().convert("P"), id="P"),
    pytest.param(lambda: draw_seven(mode="RGB", ink=(200, 0, 0), paper=(240, 240, 255)), id="RGB-red-on-pale-blue"),
])
def test_modes_in_memory_and_as_png(reference, make):
    image = make()
    assert_same_digit(prepare_image(image), reference, mean_tolerance=2.0)
    assert_same_digit(prepare_image(encode(image)), reference, mean_tolerance=2.0)


def test_palette_image_with_transparency(reference):
    image = Image.new("P", (600, 450), 0)
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)  # 0: white (transparent), 1: black
    ImageDraw.Draw(image).line([(200, 80), (380, 80), (260, 380)], fill=1, width=24)
    reopened = Image.open(io.BytesIO(encode(image, transparency=0)))
    assert reopened.mode == "P" and reopened.info.get("transparency") == 0
    assert_same_digit(prepare_image(reopened), reference)
    # White strokes on a transparent black background (index 0 black, index 1 white).
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    assert_same_digit(prepare_image(encode(image, transparency=0)), reference)


def test_16_bit_png(reference):
    gray = np.asarray(draw_seven(), np.uint16) * 257  # 0..65535
    data = encode(Image.fromarray(gray))
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert_same_digit(prepare_image(data), reference)
    dim = encode(Image.fromarray((gray // 2 + 1000).astype(np.uint16)))  # low contrast, still readable
    assert_mnist_style(prepare_image(dim))


def test_cmyk_jpeg(reference):
    data = encode(draw_seven(mode="RGB", ink="black", paper="white").convert("CMYK"), "JPEG", quality=90)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = prepare_image(data)
    assert_mnist_style(out)
    assert_same_digit(out, reference, mean_tolerance=6.0)


def test_grayscale_jpeg(reference):
    out = prepare_image(encode(draw_seven(), "JPEG", quality=85))
    assert_same_digit(out, reference, mean_tolerance=6.0)


def test_float_tiff_with_nan_and_inf(reference):
    gray = 1.0 - np.asarray(draw_seven(), np.float32) / 255  # white ink, float samples
    gray[0, 0], gray[0, 1], gray[-1, -1] = np.nan, np.inf, -np.inf
    out = prepare_image(encode(Image.fromarray(gray), "TIFF"))
    assert_same_digit(out, reference, mean_tolerance=1.0)


def test_animated_gif_uses_the_first_frame(reference):
    first = draw_seven()
    second = Image.new("L", first.size, 255)
    ImageDraw.Draw(second).rectangle([100, 200, 500, 240], fill=0)  # a dash: a different picture
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    out = prepare_image(data)
    assert_same_digit(out, reference)
    assert not np.array_equal(out, prepare_image(second))


def test_file_like_objects_and_pil_images(reference):
    data = encode(draw_seven())
    assert np.array_equal(prepare_image(io.BytesIO(data)), reference)
    assert np.array_equal(prepare_image(bytearray(data)), reference)
    assert np.array_equal(prepare_image(Image.open(io.BytesIO(data))), reference)


@pytest.mark.parametrize("convert", [
    pytest.param(lambda g: g.astype(np.float64) / 255, id="float64-0-1"),
    pytest.param(lambda g: (g.astype(np.float32) / 255), id="float32-0-1"),
    pytest.param(lambda g: g, id="uint8"),
    pytest.param(lambda g: g.astype(np.int64), id="int64"),
    pytest.param(lambda g: g[..., None], id="uint8-one-channel"),
    pytest.param(lambda g: np.repeat(g[..., None], 3, axis=2), id="uint8-rgb"),
    pytest.param(lambda g: np.dstack([g, g, g, np.full_like(g, 255)]), id="uint8-rgba"),
    pytest.param(lambda g: g < 128, id="bool-mask-of-ink"),
    pytest.param(lambda g: np.asfortranarray(g), id="fortran-order"),
    pytest.param(lambda g: g[::-1][::-1], id="negative-strides"),
])
def test_numpy_arrays(reference, convert):
    gray = np.asarray(draw_seven())
    assert_same_digit(prepare_image(convert(gray)), reference)


def test_float_array_with_nan_and_out_of_range_values(reference):
    gray = 1.0 - np.asarray(draw_seven(), np.float64) / 255  # white ink: 1.0 on the bar of the '7'
    assert gray[80, 250] == gray[80, 300] == 1.0
    gray[0, :3] = [np.nan, -np.inf, -3.0]  # read as black, like the background around them
    gray[80, 250], gray[80, 300] = np.inf, 7.0  # read as white, like the ink around them
    assert np.array_equal(prepare_image(gray), prepare_image(1.0 - np.asarray(draw_seven(), np.float64) / 255))
    assert_same_digit(prepare_image(gray), reference)


# --- errors -------------------------------------------------------------------------------------

def refused(source, *fragments: str) -> str:
    with pytest.raises(ImageError) as info:
        prepare_image(source)
    message = str(info.value)
    assert message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


@pytest.mark.parametrize("data", [b"hello, this is not a picture", b"%PDF-1.4\n" + bytes(200), bytes(range(256)),
                                  b"\x89PNG\r\n\x1a\n" + bytes(40), b"GIF89a" + bytes(3)])
def test_bytes_that_are_not_an_image(data):
    message = refused(data)
    assert "not an image" in message or "damaged" in message


def test_empty_bytes():
    refused(b"", "empty")
    refused(io.BytesIO(b""), "empty")


def declare_size(png: bytes, width: int, height: int) -> bytes:
    """Rewrite a PNG's IHDR width and height (and its CRC): a tiny file claiming a huge image."""
    assert png[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]


@pytest.fixture
def no_decoding(monkeypatch):
    def forbidden(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


@pytest.mark.parametrize("width,height", [(30_000, 30_000), (10_000, 10_000), (100_000, 300), (6_000, 6_000)])
def test_decompression_bomb_is_refused_without_decoding(no_decoding, width, height):
    bomb = declare_size(encode(Image.new("1", (8, 8))), width, height)
    assert len(bomb) < 200
    start = time.perf_counter()
    refused(bomb, f"{MAX_PIXELS // 1_000_000} megapixels")
    assert time.perf_counter() - start < 0.5


def real_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A complete, valid 1-bit PNG of zeros: about 0.5 MB that decodes to ``width * height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor, rows = zlib.compressobj(1), bytes(1 + -(-width // 8)) * 1000  # filter byte + packed bits
    idat = b"".join(compressor.compress(rows) for _ in range(height // 1000)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_valid_30000x30000_png_is_refused_quickly(no_decoding):
    bomb = real_bomb()
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    refused(bomb, "too many pixels", "25 megapixels")
    assert time.perf_counter() - start < 0.5


def test_an_array_too_large():
    refused(np.zeros((1, MAX_PIXELS + 1), np.uint8), "megapixels")


def test_truncated_png():
    data = encode(draw_seven())
    for cut in (60, len(data) // 4, len(data) // 2, len(data) - 30):  # into the pixel data
        refused(data[:cut], "damaged or truncated")


def test_truncated_jpeg():
    data = encode(draw_seven(), "JPEG")
    refused(data[:len(data) // 3], "damaged")


@pytest.mark.parametrize("image", [
    pytest.param(Image.new("L", (1, 1), 255), id="1x1-white"),
    pytest.param(Image.new("L", (1, 1), 0), id="1x1-black"),
    pytest.param(Image.new("RGB", (1, 1), (12, 200, 7)), id="1x1-colour"),
    pytest.param(Image.new("RGB", (300, 200), "white"), id="all-white"),
    pytest.param(Image.new("RGB", (300, 200), "black"), id="all-black"),
    pytest.param(Image.new("L", (300, 200), 128), id="all-grey"),
    pytest.param(Image.new("RGBA", (300, 200), (0, 0, 0, 0)), id="fully-transparent"),
    pytest.param(draw_seven(ink=120, paper=128), id="almost-no-contrast"),
])
def test_blank_images(image):
    refused(image, "no digit found")
    refused(encode(image), "no digit found")


@pytest.mark.parametrize("array,fragment", [
    (np.zeros((0, 5)), "[0, 5]"),
    (np.zeros(10), "[10]"),
    (np.zeros((2, 3, 4, 5)), "[2, 3, 4, 5]"),
    (np.zeros((5, 5, 5), np.uint8), "1 to 4 channels"),
    (np.array(3.0), "[]"),
    (np.full((5, 5), "a"), "must hold numbers"),
    (np.zeros((5, 5), object), "must hold numbers"),
    (np.zeros((5, 5), np.complex64), "must hold numbers"),
])
def test_arrays_that_are_not_images(array, fragment):
    refused(array, fragment)


def test_a_mode_pillow_cannot_convert():
    refused(Image.new("La", (20, 20)), "colour mode 'La'")


# --- upscale, tile, PNG and GIF -----------------------------------------------------------------

def test_upscale_is_nearest_neighbour():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    big = upscale(image, 3)
    assert big.shape == (9, 12) and big.dtype == np.uint8
    for i in range(3):
        for j in range(4):
            assert (big[3 * i:3 * i + 3, 3 * j:3 * j + 3] == image[i, j]).all()
    assert np.array_equal(big, np.kron(image, np.ones((3, 3), np.uint8)))
    assert np.array_equal(upscale(image, 1), image)
    assert upscale(image).shape == (24, 32)  # default factor 8
    rgb = np.random.default_rng(0).integers(0, 256, (2, 3, 3), dtype=np.uint8)
    assert np.array_equal(upscale(rgb, 2)[::2, ::2], rgb) and upscale(rgb, 2).shape == (4, 6, 3)
    assert np.array_equal(upscale([[0.5, 1.0]], 2), [[0.5, 0.5, 1.0, 1.0]] * 2)


def test_tile_layout_and_padding():
    images = (np.arange(5 * 2 * 3).reshape(5, 2, 3) + 1).astype(np.uint8)
    out = tile(images, cols=3, pad=1, pad_value=200)
    assert out.shape == (2 * 2 + 1, 3 * 3 + 2) and out.dtype == np.uint8
    for i, image in enumerate(images):
        r, c = divmod(i, 3)
        assert np.array_equal(out[r * 3:r * 3 + 2, c * 4:c * 4 + 3], image)
    assert (out[2] == 200).all()  # the padding row between the two rows of tiles
    assert (out[:, 3] == 200).all() and (out[:, 7] == 200).all()  # padding columns
    assert (out[3:, 8:] == 200).all()  # the empty sixth slot is filled with the pad value
    plain = tile(images[:4], cols=2)
    assert np.array_equal(plain, np.block([[images[0], images[1]], [images[2], images[3]]]))
    assert tile(images[:2], cols=4).shape == (2, 12)  # one row, room for four
    assert tile(images[:1], cols=1).shape == (2, 3)


def decode_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data))


def test_png_bytes():
    gray = np.random.default_rng(0).integers(0, 256, (5, 7), dtype=np.uint8)
    image = decode_png(png_bytes(gray))
    assert image.mode == "L" and image.size == (7, 5)
    assert np.array_equal(np.asarray(image), gray)
    big = decode_png(png_bytes(gray, scale=4))
    assert big.size == (28, 20) and np.array_equal(np.asarray(big), upscale(gray, 4))
    rgb = np.random.default_rng(1).integers(0, 256, (4, 3, 3), dtype=np.uint8)
    image = decode_png(png_bytes(rgb, scale=2))
    assert image.mode == "RGB" and image.size == (6, 8) and np.array_equal(np.asarray(image), upscale(rgb, 2))


def frames_of(data: bytes) -> list[np.ndarray]:
    assert data.startswith(b"GIF89a")
    gif = Image.open(io.BytesIO(data))
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("L")))
    return frames


def test_gif_bytes_frames_bounce_and_loop():
    frames = np.random.default_rng(0).integers(0, 256, (4, 5, 6), dtype=np.uint8)
    data = gif_bytes(frames, scale=3, duration_ms=80)
    gif = Image.open(io.BytesIO(data))
    assert gif.size == (18, 15) and gif.n_frames == 6  # forth 0 1 2 3, back 2 1
    assert gif.info["loop"] == 0 and gif.info["duration"] == 80  # loops forever
    decoded = frames_of(data)
    for shown, index in zip(decoded, [0, 1, 2, 3, 2, 1]):
        assert np.array_equal(shown, upscale(frames[index], 3))
    straight = frames_of(gif_bytes(frames, scale=1, bounce=False))
    assert len(straight) == 4 and all(np.array_equal(a, b) for a, b in zip(straight, frames))


@pytest.mark.parametrize("count,bounce,expected", [(1, True, 1), (2, True, 2), (3, True, 4), (3, False, 3)])
def test_gif_frame_counts(count, bounce, expected):
    frames = np.stack([np.full((4, 4), 40 * i, np.uint8) for i in range(count)])
    gif = Image.open(io.BytesIO(gif_bytes(frames, scale=2, bounce=bounce)))
    assert gif.n_frames == expected and gif.size == (8, 8)


def test_gif_needs_a_frame():
    with pytest.raises(ValueError, match="at least one frame"):
        gif_bytes(np.zeros((0, 4, 4), np.uint8))


# --- properties: nothing but ImageError escapes -------------------------------------------------

SEEDS = [encode(draw_seven(size=(48, 40), at=(-190, -75), width=3).crop((0, 0, 48, 40)), fmt)
         for fmt in ("PNG", "GIF", "BMP", "JPEG", "TIFF")]


@st.composite
def damaged_images(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1)) if data else 0
        kind = draw(st.sampled_from(["set", "truncate", "append", "insert"]))
        if kind == "set" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[position:]
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=32))
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def _only_image_error(source) -> None:
    try:
        out = prepare_image(source)
    except ImageError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert out.dtype == np.uint8 and out.shape == (28, 28)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # damaged TIFF tags
@FUZZ
@given(st.one_of(st.binary(max_size=2048), damaged_images()))
def test_arbitrary_bytes_raise_only_image_error(data):
    _only_image_error(data)


DTYPES = st.sampled_from([np.uint8, np.int8, np.uint16, np.int32, np.int64, np.uint64, np.float16, np.float32,
                          np.float64, np.bool_, np.complex64])


@FUZZ
@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12)))
def test_arbitrary_arrays_raise_only_image_error(array):
    _only_image_error(array)
