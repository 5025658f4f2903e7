"""Recover the whole members of a zip whose central directory is missing (a cut-off download).

``zipfile`` needs the central directory at the end of the archive; a truncated download has
none. The local file headers in front of each member are enough to read every member that
arrived whole: this walks them in order and reports the first incomplete one as an error.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Iterator

_LOCAL = b"PK\x03\x04"
_HEADER = struct.Struct("<4sHHHHHIIIHH")


def iter_local_headers(path: Path, chunk: int = 1 << 20) -> Iterator[tuple[str, bytes, str | None]]:
    """Yield (member name, data, error) for each member found by its local header."""
    data = Path(path).read_bytes()
    pos = data.find(_LOCAL)
    while pos != -1 and pos + _HEADER.size <= len(data):
        (_, _, flags, method, _, _, crc, csize, _, nlen, xlen) = _HEADER.unpack_from(data, pos)
        name = data[pos + _HEADER.size: pos + _HEADER.size + nlen].decode("utf-8", "replace")
        start = pos + _HEADER.size + nlen + xlen
        if method not in (0, 8):
            yield name, b"", f"unsupported compression method {method}"
            return
        if method == 0:
            if flags & 0x08 or start + csize > len(data):
                yield name, b"", "stored member cut short"
                return
            body, end = data[start:start + csize], start + csize
        else:
            d = zlib.decompressobj(-15)
            try:
                body = d.decompress(data[start:]) if flags & 0x08 or not csize else d.decompress(data[start:start + csize])
            except zlib.error as exc:
                yield name, b"", f"corrupt deflate data: {exc}"
                return
            if not d.eof:
                yield name, b"", "member cut short (archive truncated)"
                return
            end = len(data) - len(d.unused_data) if (flags & 0x08 or not csize) else start + csize
        if zlib.crc32(body) != crc and not flags & 0x08:
            yield name, b"", "CRC mismatch"
        else:
            yield name, body, None
        pos = data.find(_LOCAL, end)
