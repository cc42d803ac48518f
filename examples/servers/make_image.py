#!/usr/bin/env python3
"""Write a small RGB PNG (a cat-coloured blob on a sky-blue ground) for the
classification example: make_image.py OUT.png [SIZE]."""
import struct
import sys
import zlib


def png(width, height, pixel):
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(pixel(x, y))
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def main():
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    c = size / 2
    def pixel(x, y):
        if (x - c) ** 2 + (y - c * 1.1) ** 2 < (size / 3) ** 2:
            return (200, 140, 60)
        return (120, 170, 230)
    with open(sys.argv[1], "wb") as f:
        f.write(png(size, size, pixel))


if __name__ == "__main__":
    main()
