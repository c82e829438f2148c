"""A pack fetched over the network, filtered before dulwich indexes it.

Why: dulwich indexes an incoming pack by inflating every object whole into memory, so a peer's
1 GiB blob of zeros (1 MB compressed) cost every device a gigabyte and twenty seconds. Here each
entry's size is read from its header (and a delta's result size from the delta's first bytes)
before anything is kept: an entry over the limit, or a delta built on one, is left out of the
pack that dulwich then indexes. Its compressed bytes must still be walked through to find where
the next entry starts (a pack has no lengths), which is done in small pieces and thrown away:
memory stays bounded whatever the peer sent. Readers then skip that device's file with a warning,
as they skip any file over the limit.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from dulwich.errors import ObjectFormatException
from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.object_store import DiskObjectStore
from dulwich.pack import UnresolvedDeltas, pack_object_header

from syncer.git.size import MALFORMED, OFS_DELTA, REF_DELTA, delta_result_size, pack_entry_header

_CHUNK = 1 << 20  # read, inflated and thrown away in pieces this large
_SHA_LENGTH = 20


class PackTooLarge(ObjectFormatException):
    """The remote sent more than a sync repo's pack may hold."""


class CappedSink:
    """Where the remote's pack goes as it arrives: a file, refused past `limit` bytes."""

    def __init__(self, f: BinaryIO, limit: int) -> None:
        self.f = f
        self.limit = limit
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise PackTooLarge(f"the remote sent a pack over the {self.limit} byte limit")
        return self.f.write(data)


@dataclass
class Filtered:
    kept: int
    dropped: int


def _ofs(f: BinaryIO) -> int:
    byte = _byte(f)
    value = byte & 0x7F
    while byte & 0x80:
        byte = _byte(f)
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value


def _byte(f: BinaryIO) -> int:
    b = f.read(1)
    if not b:
        raise ObjectFormatException("the remote's pack ends in the middle of an object")
    return b[0]


def _inflate_through(f: BinaryIO, size: int, *, want_head: bool) -> bytes:
    """Walk one zlib stream of `size` inflated bytes, in bounded pieces, leaving `f` just past
    it; the first inflated bytes (a delta's header) if asked for."""
    inflater = zlib.decompressobj()
    inflated = 0
    head = b""
    while not inflater.eof:
        chunk = f.read(_CHUNK)
        if not chunk:
            raise ObjectFormatException("the remote's pack ends in the middle of an object")
        while chunk and not inflater.eof:
            out = inflater.decompress(chunk, _CHUNK)
            chunk = inflater.unconsumed_tail
            inflated += len(out)
            if inflated > size:
                raise ObjectFormatException("an object in the remote's pack is larger than its header says")
            if want_head and len(head) < 32:
                head += out[: 32 - len(head)]
    f.seek(-len(inflater.unused_data), 1)
    if inflated != size:
        raise ObjectFormatException("an object in the remote's pack is smaller than its header says")
    return head


def filter_pack(src: BinaryIO, dst: BinaryIO, limit: int) -> Filtered:
    """Copy the pack in `src` to `dst` without the entries whose inflated size is over `limit`
    (and the deltas based on them), rewriting offsets as entries move. `dst` is a valid pack."""
    header = src.read(12)
    if len(header) != 12 or header[:4] != b"PACK":
        raise ObjectFormatException("the remote did not send a pack")
    version, count = struct.unpack(">II", header[4:])
    if version not in (2, 3):
        raise ObjectFormatException(f"the remote sent a pack of unknown version {version}")
    dst.write(bytes(12))  # the header, once the count of kept entries is known
    moved: dict[int, int] = {}  # where each kept entry started in src -> where it starts in dst
    dropped: set[int] = set()
    for _ in range(count):
        start = src.tell()
        try:
            kind, size = pack_entry_header(src)
        except MALFORMED:
            raise ObjectFormatException("the remote's pack ends in the middle of an object") from None
        base: int | bytes | None = None
        if kind == OFS_DELTA:
            base = start - _ofs(src)
        elif kind == REF_DELTA:
            base = src.read(_SHA_LENGTH)
        data_start = src.tell()
        delta = kind in (OFS_DELTA, REF_DELTA)
        head = _inflate_through(src, size, want_head=delta and size <= limit)
        data_end = src.tell()
        try:
            result_size = delta_result_size(head) if delta and size <= limit else size
        except MALFORMED:
            raise ObjectFormatException("a delta in the remote's pack is malformed") from None
        if size > limit or result_size > limit or (isinstance(base, int) and base in dropped):
            dropped.add(start)
            continue
        if isinstance(base, int):
            if base not in moved:
                raise ObjectFormatException("a delta in the remote's pack names no earlier object")
            base = dst.tell() - moved[base]
        moved[start] = dst.tell()
        dst.write(pack_object_header(kind, base, size, DEFAULT_OBJECT_FORMAT))
        src.seek(data_start)
        remaining = data_end - data_start
        while remaining:
            piece = src.read(min(_CHUNK, remaining))
            dst.write(piece)
            remaining -= len(piece)
    _check_trailer(src)
    dst.seek(0)
    dst.write(b"PACK" + struct.pack(">II", version, len(moved)))
    dst.seek(0)
    digest = hashlib.sha1()
    while piece := dst.read(_CHUNK):
        digest.update(piece)
    dst.write(digest.digest())
    return Filtered(len(moved), len(dropped))


def take_in(raw: BinaryIO, store: DiskObjectStore, limit: int, progress: Callable[[bytes], None] | None) -> int:
    """Add the pack in `raw` to `store` without its entries over `limit`; how many were left out."""
    with tempfile.TemporaryFile(dir=store.path) as kept:
        filtered = filter_pack(raw, kept, limit)
        if filtered.kept:
            kept.seek(0)
            try:
                store.add_thin_pack(kept.read, None, progress=progress)
            except (KeyError, UnresolvedDeltas):  # a delta on a base neither sent (or left out) nor held
                raise ObjectFormatException("a delta in the remote's pack has no base") from None
    return filtered.dropped


def _check_trailer(src: BinaryIO) -> None:
    end = src.tell()
    trailer = src.read(_SHA_LENGTH)
    extra = src.read(1)
    src.seek(0)
    digest = hashlib.sha1()
    remaining = end
    while remaining:
        piece = src.read(min(_CHUNK, remaining))
        digest.update(piece)
        remaining -= len(piece)
    if trailer != digest.digest() or extra:
        raise ObjectFormatException("the remote's pack does not match its checksum")
