"""A safetensors file taken apart and put back together, to make broken and hostile files."""

from __future__ import annotations

import json
import struct


def split(data: bytes) -> tuple[dict, bytes]:
    """A safetensors file -> (its JSON header, the tensor bytes after it)."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header: dict, body: bytes) -> bytes:
    """A JSON header and tensor bytes -> a safetensors file."""
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body
