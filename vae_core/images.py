"""Pictures in and out: turn a user's image into an MNIST-style digit; upscale, tile,
draw a latent scatter, and encode images as PNG and animated GIF bytes (Pillow); the colours
every plane and picture shares (read from web/colors.js)."""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageError

MAX_PIXELS = 25_000_000  # a 5000x5000 photo; larger declared sizes are refused before decoding
DIGIT_BOX = 20  # MNIST digits fit in 20x20 ...
CANVAS = 28  # ... centred by centre of mass in 28x28
COLORS_FILE = Path(__file__).resolve().parent / "web" / "colors.js"


def plane_colors(path: Path = COLORS_FILE) -> dict:
    """The colours every plane and picture shares, read from their one definition: the JSON
    literal ``export const COLORS = {...};`` of vae_core/web/colors.js (what each one is for is
    written there)."""
    found = re.search(r"^export const COLORS = (\{.*?^\});$", path.read_text(encoding="utf-8"), re.S | re.M)
    try:
        return json.loads(found.group(1))
    except (AttributeError, ValueError):  # no literal, or not JSON
        raise RuntimeError(f"{path.name} holds no JSON literal `export const COLORS = {{...}};`: this "
                           "installation of vae_core is incomplete (reinstall it)") from None


_COLORS = plane_colors()
PALETTE: tuple[str, ...] = tuple(_COLORS["palette"])  # one colour per class, in every latent scatter
PICK_COLOR: str = _COLORS["pick"]
ABOVE_COLOR: str = _COLORS["above"]
SCORE_SCALE: tuple[tuple[float, str], ...] = tuple((float(stop), color) for stop, color in _COLORS["scores"])


def open_image(source) -> Image.Image:
    """Open bytes, a file-like object, a PIL image or an array as a PIL image, safely.

    The declared size is checked before any pixel is decoded, so a decompression
    bomb (a small file claiming a gigantic image) costs nothing.
    """
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        array = source
        if array.dtype.kind not in "biuf":
            raise ImageError(f"an image array must hold numbers, got {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[..., 0]
        if array.ndim not in (2, 3) or array.size == 0 or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
            raise ImageError(f"an image array must be [H, W] or [H, W, C] with 1 to 4 channels, "
                             f"got shape {list(source.shape)}")
        if array.dtype == np.bool_:
            array = array.astype(np.uint8) * 255  # a mask: True is white
        elif array.dtype.kind == "f":
            array = np.asarray(np.clip(np.nan_to_num(array.astype(np.float64)), 0, 1) * 255, np.uint8)
        elif array.dtype != np.uint8:
            array = np.clip(array, 0, 255).astype(np.uint8)
        image = Image.fromarray(np.ascontiguousarray(array))
    else:
        data = source if isinstance(source, (bytes, bytearray)) else source.read()
        if not data:
            raise ImageError("the file is empty")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(f"the image declares far too many pixels; images up to "
                             f"{MAX_PIXELS // 1_000_000} megapixels are accepted") from None
        except UnidentifiedImageError:
            raise ImageError("this file is not an image Pillow can read (try PNG or JPEG)") from None
        except (OSError, ValueError, SyntaxError) as e:
            raise ImageError(f"this image file is damaged ({e})") from None
    w, h = image.size
    if w * h > MAX_PIXELS:
        raise ImageError(f"the image is {w}x{h} pixels; images up to {MAX_PIXELS // 1_000_000} megapixels are accepted")
    if w < 1 or h < 1:
        raise ImageError("the image has no pixels")
    try:
        image.seek(0)  # the first frame of an animation
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
        raise ImageError(f"this image file is damaged or truncated ({e})") from None
    return image


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> float64 [H, W] in [0, 1] (0 = black)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        g = np.asarray(image, dtype=np.float64)
        g = np.where(np.isfinite(g), g, 0.0)  # NaN or infinite samples (float TIFFs) count as black
        lo, hi = (0.0, 65535.0) if image.mode.startswith("I;16") else (float(g.min()), float(g.max()))
        return np.clip((g - lo) / max(hi - lo, 1e-12), 0, 1)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        alpha, gray = rgba[..., 3], rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
        if alpha.min() < alpha.max():
            # Strokes on a transparent background (a drawing canvas): lay them over whichever
            # background contrasts with the strokes, so white ink stays visible.
            ink = gray[alpha > 0.5].mean() if (alpha > 0.5).any() else 0.0
            background = 0.0 if ink > 0.5 else 1.0
            return alpha * gray + (1 - alpha) * background
        return gray
    return np.asarray(image.convert("RGB").convert("L"), dtype=np.float64) / 255.0


def prepare_image(source) -> np.ndarray:
    """Make any image look like an MNIST digit: uint8 [28, 28], white ink on black.

    Grayscale; invert a light background; crop to the ink; fit in 20x20 keeping the
    aspect ratio; centre by centre of mass in 28x28 (how MNIST itself was made).
    """
    image = open_image(source)
    try:
        g = to_grayscale(image)
    except ValueError:  # a mode Pillow cannot convert, such as "La"
        raise ImageError(f"images in colour mode {image.mode!r} are not supported (try PNG or JPEG)") from None
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    if np.median(border) > 0.5:
        g = 1.0 - g
        border = 1.0 - border
    background = float(np.median(border))
    ink = np.clip((g - background) / max(1.0 - background, 1e-6), 0, 1)
    if ink.max() < 0.15:
        raise ImageError("no digit found: the image is blank or has almost no contrast")
    rows, cols = np.nonzero(ink > 0.2 * ink.max())
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = ink.shape
    scale = DIGIT_BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Resample in floating point: a few thin strokes in a big photo shrink to faint values
    # that 8-bit rounding would erase (leaving no ink at all, and a centre of mass of 0/0).
    patch = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    patch = np.clip(np.asarray(patch, dtype=np.float64), 0, None)  # Lanczos rings below zero
    if patch.max() <= 0:
        raise ImageError("no digit found: the marks are too small and scattered to make a digit")
    patch /= patch.max()
    ys, xs = np.indices(patch.shape)
    mass = patch.sum()
    cy, cx = (ys * patch).sum() / mass, (xs * patch).sum() / mass
    top = int(np.clip(round(CANVAS / 2 - cy), 0, CANVAS - patch.shape[0]))
    left = int(np.clip(round(CANVAS / 2 - cx), 0, CANVAS - patch.shape[1]))
    out = np.zeros((CANVAS, CANVAS))
    out[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
    return np.uint8(np.round(out * 255))


def latent_extent(z, margin: float = 0.5, floor: float = 3.0) -> float:
    """Half-width of a square view that holds nearly all points: max(|z|) at the 99.9th
    percentile plus a margin, at least ``floor`` (the prior's +-3 sigma)."""
    z = np.asarray(z, np.float64)
    if z.size == 0:
        return floor
    return float(max(floor, np.percentile(np.abs(z[:, :2]), 99.9) + margin))


def scatter_image(z, labels, extent: float, size: int = 640, radius: int = 2) -> np.ndarray:
    """A scatter plot of 2-D points coloured by label, drawn with Pillow: uint8 [size, size, 3].

    The square spans [-extent, extent] on both axes (z2 pointing up), on white with the axes
    through the origin; used for pictures in files (the app draws with Plotly).
    """
    from PIL import ImageColor, ImageDraw

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    scale = (size - 1) / (2 * extent)
    draw.line([(size // 2, 0), (size // 2, size)], fill=(220, 220, 220))
    draw.line([(0, size // 2), (size, size // 2)], fill=(220, 220, 220))
    rgb = [ImageColor.getrgb(c) for c in PALETTE]
    z = np.asarray(z, np.float64)
    for (x, y), label in zip(z[:, :2], np.asarray(labels)):
        px, py = (x + extent) * scale, (extent - y) * scale
        draw.ellipse([px - radius, py - radius, px + radius, py + radius], fill=rgb[int(label) % len(rgb)])
    return np.asarray(image)


def upscale(image, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour upscaling: each pixel becomes a crisp factor x factor block."""
    image = np.asarray(image)
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def tile(images, cols: int, pad: int = 0, pad_value: int = 0) -> np.ndarray:
    """Tile images [N, h, w] row by row into one image with ``cols`` per row."""
    images = np.asarray(images)
    n, h, w = images.shape
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), pad_value, dtype=images.dtype)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out


def png_bytes(image, scale: int = 1) -> bytes:
    """uint8 [H, W] (grayscale) or [H, W, 3] -> PNG bytes, nearest-neighbour upscaled by ``scale``."""
    buffer = io.BytesIO()
    Image.fromarray(upscale(np.asarray(image, np.uint8), scale)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def gif_bytes(frames, scale: int = 4, duration_ms: int = 60, bounce: bool = True) -> bytes:
    """Frames uint8 [T, H, W] -> an endlessly looping animated GIF; ``bounce`` plays forth and back."""
    frames = [upscale(f, scale) for f in np.asarray(frames, np.uint8)]
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms,
                   loop=0, optimize=False)
    return buffer.getvalue()

