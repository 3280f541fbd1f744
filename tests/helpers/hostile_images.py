"""The image files of issue 6 for "encode your own digit", shared by the CLI and app tests:
each case is (file name, bytes, what must happen). ``None`` means it must work (a digit)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

SIZE = (240, 240)
STROKE = [(70, 50), (170, 50), (100, 200)]  # a 7


def seven(mode: str = "L", ink=0, paper=255) -> Image.Image:
    image = Image.new(mode, SIZE, paper)
    ImageDraw.Draw(image).line(STROKE, fill=ink, width=18)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (its CRC fixed, so it parses)."""
    png = encode(Image.new("1", (8, 8)))
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]


def animated_gif() -> bytes:
    second = Image.new("L", SIZE, 255)
    ImageDraw.Draw(second).rectangle([40, 110, 200, 130], fill=0)  # a dash: another picture
    return encode(seven(), "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def rgba_on_transparent() -> bytes:
    """Dark strokes on a fully transparent background, as a drawing app saves them."""
    image = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    ImageDraw.Draw(image).line(STROKE, fill=(20, 20, 20, 255), width=18)
    return encode(image)


def sixteen_bit() -> bytes:
    gray = np.asarray(seven(), np.uint16) * 257
    data = encode(Image.fromarray(gray))
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    return data


def cmyk_jpeg() -> bytes:
    data = encode(seven("RGB", ink="black", paper="white").convert("CMYK"), "JPEG", quality=90)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    return data


def photo_of_a_seven() -> bytes:
    """A 7 as a photo of a page shows it: dark ink on off-white paper, a 400x300 RGB PNG (the
    browser tests' upload)."""
    image = Image.new("RGB", (400, 300), (250, 248, 240))
    ImageDraw.Draw(image).line([(150, 60), (250, 60), (170, 250)], fill=(30, 30, 60), width=18)
    return encode(image)


PLAIN = encode(seven())  # the reference digit: every working case must land next to it

CASES = {
    "non-image": ("notes.png", b"Dear diary, today I trained a VAE.", "not an image Pillow can read"),
    "decompression-bomb": ("bomb.png", bomb(), "declares far too many pixels"),
    "animated-gif": ("walk.gif", animated_gif(), None),
    "rgba": ("drawing.png", rgba_on_transparent(), None),
    "16-bit": ("scan16.png", sixteen_bit(), None),
    "cmyk": ("print.jpg", cmyk_jpeg(), None),
    "1x1": ("pixel.png", encode(Image.new("L", (1, 1), 0)), "no digit found"),
    "all-white": ("white.png", encode(Image.new("RGB", (200, 150), "white")), "no digit found"),
}
