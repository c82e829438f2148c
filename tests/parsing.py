"""Reading a log file's bytes through a source's parser, as the scanner does, for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syncer.events import Event
from syncer.sources import SOURCES


def events_of(source: str, data: bytes, name: str, *, chunk: int | None = None) -> tuple[list[Event], int]:
    """Every event one file gives, read whole or in `chunk`s, and its bad lines."""
    found: list[Event] = []
    bad: list[tuple[int, str]] = []
    parser = SOURCES[source].parser(Path(name))

    def reject(at: int, why: str) -> None:
        bad.append((at, why))

    buffer = b""
    for i in range(0, len(data), chunk or len(data) or 1):
        buffer += data[i:i + (chunk or len(data))]
        end = buffer.rfind(b"\n") + 1
        if end:
            parser.feed(buffer, end, found.append, reject)
            buffer = buffer[end:]
    parser.finish(buffer, found.append, reject)
    return found, len(bad)


def counted(source: str, *files: tuple[bytes, str]) -> tuple[int, int, int, int, int]:
    """What the ledger keeps of these files: per key, the largest of each field (DESIGN §2).
    (input, output, cache creation, cache read, messages)."""
    keys: dict[str, tuple[int, ...]] = {}
    for data, name in files:
        for event in events_of(source, data, name)[0]:
            old = keys.get(event.key, (0,) * 5)
            keys[event.key] = tuple(max(a, b) for a, b in zip(old, event.tokens, strict=True))
    i, o, c, _h, r = (sum(column) for column in zip(*keys.values(), strict=True)) if keys else (0,) * 5
    return (i, o, c, r, len(keys))


def stamp(moment: datetime) -> str:
    """A log's UTC time to the millisecond: `2026-05-13T09:00:07.500Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
