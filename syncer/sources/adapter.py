"""What a source is: the typed interface every CLI's adapter implements (DESIGN.md §8).

A source knows where its CLI writes logs (and the environment variable that moves them), which
files are logs, how a file's bytes become usage events, and how its model names are priced.
Nothing outside `syncer/sources/<name>/` knows more about a source than this interface says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from syncer.events import Event

Emit = Callable[["Event"], None]
"""Where a parser hands each event it reads (the scanner names and batches it)."""

Reject = Callable[[int, str], None]
"""Where a parser reports a bad line: its offset in the bytes it was given, and why. Bad lines
are counted and skipped, never fatal; the first few are named in the scan's warnings."""


class LogParser(Protocol):
    """Reads one file from its start (or, for a resumable source, from a checkpoint), in
    order. It may keep state between lines: a Codex call is known only against the running
    totals before it, a Gemini message by the session its file began with."""

    def feed(self, data: bytes, end: int, emit: Emit, reject: Reject) -> None:
        """Read the complete lines of `data[:end]` (`end` is just past a newline)."""
        ...

    def finish(self, rest: bytes, emit: Emit, reject: Reject) -> None:
        """Only for a source that is not resumable: the file ended with `rest`, which has no
        final newline (possibly empty), offset `len(data) - len(rest)` of what `feed` saw:
        read it if it is complete, else leave it for the next run."""
        ...


class Source(Protocol):
    """One CLI whose logs ccsync reads."""

    @property
    def name(self) -> str:
        """The source's name in the ledger, reports and `--source` (`claude`)."""
        ...

    @property
    def env_var(self) -> str:
        """The environment variable that moves this CLI's logs (shown by `status`)."""
        ...

    @property
    def env_holds(self) -> str:
        """What the folder `env_var` names holds (`projects/`), for the message about a
        variable that names no log folder."""
        ...

    @property
    def resumable(self) -> bool:
        """Whether reading may resume at the offset where the last run stopped. False for a
        source whose files are rewritten whole or compressed, or whose lines mean something
        only after the lines before them: such a file is read again from its start whenever
        it changes (its event keys make the re-read add only what is new)."""
        ...

    def log_roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """Folders to walk for log files, most specific first. Missing ones are skipped."""
        ...

    def is_log_file(self, name: str) -> bool: ...

    def fallback_project(self, path: Path, root: Path) -> str:
        """A project name for events that carry no working directory."""
        ...

    def decode(self, path: Path, raw: bytes) -> bytes:
        """A whole file's bytes as lines (a compressed file decompressed). Only called for
        sources that are not resumable."""
        ...

    def parser(self, path: Path) -> LogParser:
        """A fresh parser for one file (its state lives as long as that one read)."""
        ...

    def price_name(self, model: str) -> str | None:
        """The price table's name for a model this source logged (the table then matches
        dated snapshots), or None for a name that stands for no priced model."""
        ...


def marked_lines(data: bytes, end: int, marker: re.Pattern[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines of `data[:end]` in which `marker` matches, in file order, each with its
    offset, without its newline. One regex search per line found (a literal-led alternation
    runs near memchr speed); most of a log (tool output, prompts) is never parsed."""
    search, find, rfind = marker.search, data.find, data.rfind
    position = 0
    while (match := search(data, position, end)) is not None:
        mark = match.start()
        start = rfind(b"\n", position, mark) + 1 or position
        stop = find(b"\n", mark, end)
        if stop < 0:
            stop = end
        yield start, data[start:stop]
        position = stop + 1
