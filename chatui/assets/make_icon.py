"""Draw the app icon (a speech bubble) as PNGs and a Windows .ico, standard library only.

Run once after changing the drawing: ``python chatui/assets/make_icon.py``.
Each pixel is sampled 4x4 times for smooth edges.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (16, 32, 48, 64, 128, 256)
TOP, BOTTOM = (0x3B, 0x82, 0xF6), (0x1D, 0x4E, 0xD8)


def _in_round_rect(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _in_triangle(x, y, a, b, c):
    def side(p, q):
        return (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])
    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))


def _sample(x, y):
    """(inside bubble, inside a dot) at unit coordinates."""
    bubble = _in_round_rect(x, y, 0.06, 0.10, 0.94, 0.72, 0.17) or \
        _in_triangle(x, y, (0.20, 0.64), (0.44, 0.70), (0.14, 0.92))
    dot = any((x - cx) ** 2 + (y - 0.41) ** 2 <= 0.062 ** 2 for cx in (0.30, 0.50, 0.70))
    return bubble, dot


def render(size: int) -> bytes:
    n = 4
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            cover = white = 0
            for sy in range(n):
                for sx in range(n):
                    b, d = _sample((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    cover += b
                    white += b and d
            if cover == 0:
                row += b"\0\0\0\0"
                continue
            t = py / max(1, size - 1)
            base = [round(TOP[i] + (BOTTOM[i] - TOP[i]) * t) for i in range(3)]
            w = white / cover
            rgb = [round(c + (255 - c) * w) for c in base]
            row += bytes(rgb + [round(255 * cover / (n * n))])
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
    header = struct.pack("!IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _ico(pngs: dict[int, bytes]) -> bytes:
    """An .ico holding PNG images (supported since Windows Vista)."""
    sizes = [s for s in SIZES if s in pngs]
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    for s in sizes:
        data = pngs[s]
        out += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(pngs[s] for s in sizes)


def main() -> None:
    pngs = {s: render(s) for s in SIZES}
    for s, data in pngs.items():
        (HERE / f"icon-{s}.png").write_bytes(data)
    (HERE / "chat.ico").write_bytes(_ico(pngs))


if __name__ == "__main__":
    main()
