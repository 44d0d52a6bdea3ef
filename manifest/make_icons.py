"""Draw the app icons (a gate with a check mark) and write them as PNGs next to this file.

usage: python -m manifest.make_icons
Stdlib only (zlib + struct) so a fresh clone can redraw them; the PNGs are committed, this keeps them reproducible.
"""

from __future__ import annotations

import struct
import sys
import zlib
from itertools import pairwise
from pathlib import Path

from manifest.build import ACCENT_COLOR, COLOR_ICON, OUTLINE_ICON

COLOR_SIZE = 192
OUTLINE_SIZE = 32
_SUPERSAMPLE = 4  # 4x4 samples per pixel: smooth edges without an imaging library

Point = tuple[float, float]

# The symbol in its own unit square: two posts, a beam across the top, a check mark between the posts.
# Edges sit on multiples of 1/30 so that the 32x32 outline (30 px symbol, 1 px margin) has crisp straight edges.
_POSTS = ((0.0, 0.0, 0.2, 1.0), (0.8, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 5 / 30))
_CHECK: tuple[Point, ...] = ((0.31, 0.57), (0.46, 0.72), (0.69, 0.41))
_CHECK_HALF_WIDTH = 0.07


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return float(((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5)


def _in_symbol(x: float, y: float) -> bool:
    if any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in _POSTS):
        return True
    return any(_segment_distance((x, y), a, b) <= _CHECK_HALF_WIDTH for a, b in pairwise(_CHECK))


def coverage(size: int, margin: float) -> list[list[float]]:
    """Fraction of each pixel covered by the symbol, which fills the square minus ``margin`` on each side."""
    scale = 1.0 - 2.0 * margin
    rows: list[list[float]] = []
    for py in range(size):
        row: list[float] = []
        for px in range(size):
            hits = 0
            for sy in range(_SUPERSAMPLE):
                for sx in range(_SUPERSAMPLE):
                    u = ((px + (sx + 0.5) / _SUPERSAMPLE) / size - margin) / scale
                    v = ((py + (sy + 0.5) / _SUPERSAMPLE) / size - margin) / scale
                    hits += _in_symbol(u, v)
            row.append(hits / _SUPERSAMPLE**2)
        rows.append(row)
    return rows


def encode_png(width: int, height: int, rows: list[bytes], color_type: int) -> bytes:
    """An 8-bit PNG (colour type 2 = RGB, 6 = RGBA) from raw scanlines, unfiltered."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter byte 0 (None) before each scanline
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def color_icon() -> bytes:
    """192x192 RGB: a white symbol on the accent colour, inside Teams' central safe area."""
    background = _hex_rgb(ACCENT_COLOR)
    rows = []
    for row in coverage(COLOR_SIZE, margin=0.22):
        line = bytearray()
        for c in row:
            line += bytes(round(bg + (255 - bg) * c) for bg in background)
        rows.append(bytes(line))
    return encode_png(COLOR_SIZE, COLOR_SIZE, rows, color_type=2)


def outline_icon() -> bytes:
    """32x32 RGBA: white everywhere, the symbol carried by alpha alone (Teams tints it)."""
    rows = [
        b"".join(bytes((255, 255, 255, round(255 * c))) for c in row)
        for row in coverage(OUTLINE_SIZE, margin=1 / OUTLINE_SIZE)
    ]
    return encode_png(OUTLINE_SIZE, OUTLINE_SIZE, rows, color_type=6)


def write_icons(directory: Path) -> list[Path]:
    paths = [directory / COLOR_ICON, directory / OUTLINE_ICON]
    paths[0].write_bytes(color_icon())
    paths[1].write_bytes(outline_icon())
    return paths


def main() -> int:
    for path in write_icons(Path(__file__).resolve().parent):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
