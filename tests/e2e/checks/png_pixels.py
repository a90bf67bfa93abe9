"""Reads an 8-bit RGB or RGBA PNG (what Chromium's --screenshot writes) with the standard library
alone, for checks of how a page rendered: is_blank, colour counts.

usage: png_pixels.py FILE  — prints width, height, the share of non-white pixels and distinct colours
"""
import struct
import sys
import zlib


def read_png(path):
    """(width, height, channels, rows): rows is a list of bytearrays, one per scanline, unfiltered."""
    with open(path, "rb") as stream:
        data = stream.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    at, idat, header = 8, [], None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        at += 12 + length
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are read (depth {depth}, colour {colour})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            raise ValueError(f"{path}: unknown PNG filter {kind} in row {y}")
        rows.append(line)
        previous = line
    return width, height, channels, rows


def pixel_summary(path):
    """(width, height, share of pixels that are not near-white, number of distinct colours)."""
    width, height, channels, rows = read_png(path)
    coloured, colours = 0, set()
    for line in rows:
        for x in range(0, width * channels, channels):
            r, g, b = line[x], line[x + 1], line[x + 2]
            colours.add((r >> 3, g >> 3, b >> 3))
            if r < 235 or g < 235 or b < 235:
                coloured += 1
    return width, height, coloured / (width * height), len(colours)


if __name__ == "__main__":
    w, h, share, distinct = pixel_summary(sys.argv[1])
    print(f"{w}x{h}: {100 * share:.1f} % non-white pixels, {distinct} distinct colours")
