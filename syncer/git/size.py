"""An object's size read from its header, before its body is inflated.

Why this reaches below dulwich's API: other devices' files are untrusted input, and a blob
pushed by a broken or hostile peer could be gigabytes that `object_store.get_raw` would inflate
into memory before we could refuse it. dulwich 1.2.21 has no call that returns an object's type
and size without inflating it, so this reads the two places objects live (a loose object's zlib
header, a pack entry's header) itself. It is only an early refusal: the caller checks the size
of what `get_raw` returns as well, and every parse error here reads as an unreadable object.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dulwich.objects import ObjectID

if TYPE_CHECKING:
    from dulwich.repo import Repo

    from syncer.git.local import Reader

OBJ_BLOB = 3
_LOOSE_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
OFS_DELTA, REF_DELTA = 6, 7

MALFORMED: tuple[type[Exception], ...] = (IndexError, ValueError, zlib.error)
"""What `object_header` raises on a malformed header."""


def object_header(repo: Repo | Reader, sha: ObjectID) -> tuple[int | None, int] | None:
    """(type, size) of an object without inflating its body; None if it is not in the store.

    For a delta in a pack the type is None (known only after resolving the chain) and the size
    is the size of the result, read from the delta's own header.
    """
    hexsha = sha.decode("ascii")
    loose = Path(repo.object_store.path) / hexsha[:2] / hexsha[2:]
    try:
        with open(loose, "rb") as f:
            inflater = zlib.decompressobj()
            head = b""
            while b"\0" not in head and len(head) < 64:
                chunk = f.read(256)
                if not chunk:
                    break
                head += inflater.decompress(chunk, 64 - len(head))
            kind, _, size = head.split(b"\0", 1)[0].partition(b" ")
            return (_LOOSE_TYPES.get(kind, 0), int(size))
    except FileNotFoundError:
        pass
    for pack in repo.object_store.packs:
        try:
            offset = pack.index.object_offset(sha)
        except KeyError:
            continue
        with open(pack.data.path, "rb") as f:
            f.seek(offset)
            return _pack_entry_header(f)
    return None


def pack_entry_header(f: BinaryIO) -> tuple[int, int]:
    """(type, size) of the pack entry `f` is at, leaving `f` after that header."""
    byte = f.read(1)[0]
    kind = (byte >> 4) & 7
    size = byte & 0x0F
    shift = 4
    while byte & 0x80:
        byte = f.read(1)[0]
        size |= (byte & 0x7F) << shift
        shift += 7
    return kind, size


def delta_result_size(delta: bytes) -> int:
    """The size of what a delta makes: the second of the two numbers it starts with."""
    pos = 0
    values: list[int] = []
    while len(values) < 2:  # source size, then result size
        value = shift = 0
        while True:
            byte = delta[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append(value)
    return values[1]


def _pack_entry_header(f: BinaryIO) -> tuple[int | None, int]:
    kind, size = pack_entry_header(f)
    if kind not in (OFS_DELTA, REF_DELTA):
        return (kind, size)
    if kind == OFS_DELTA:
        byte = f.read(1)[0]
        while byte & 0x80:
            byte = f.read(1)[0]
    else:
        f.read(20)
    inflater = zlib.decompressobj()
    return (None, delta_result_size(inflater.decompress(f.read(64), 32)))
