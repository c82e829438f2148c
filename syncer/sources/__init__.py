"""The CLIs whose logs ccsync reads, each one folder behind the `Source` interface
(`syncer/sources/adapter.py`). Adding a source is one folder and one line in `SOURCES`; no
module outside its folder says its name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syncer.sources import claude, codex, gemini
from syncer.sources.adapter import Source

if TYPE_CHECKING:
    from syncer.events import Event

# (A source's parser is imported by its `parser()`: the reports need the sources' names and
# prices only, and would pay 4 ms for the parsers and `Event`.)
SOURCES: dict[str, Source] = {s.name: s for s in (claude.SOURCE, codex.SOURCE, gemini.SOURCE)}


def line_parsers() -> dict[str, Callable[[bytes], Event | None]]:
    """The sources the status line reads a line at a time from where its last run stopped.
    Codex and Gemini logs need their whole file (cumulative counts, one JSON document), so
    their recent usage comes from the ledger's hours (as of the last scan) instead."""
    from syncer.sources.claude.parser import parse_line  # noqa: PLC0415 - see SOURCES

    return {claude.SOURCE.name: parse_line}
