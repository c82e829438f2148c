"""The CLIs whose logs ccsync reads, each one folder behind the `Source` interface
(`syncer/sources/adapter.py`). Adding a source is one folder and one line in `SOURCES`; no
module outside its folder says its name."""

from __future__ import annotations

from collections.abc import Callable

from syncer.events import Event
from syncer.sources import claude, codex, gemini
from syncer.sources.adapter import Source

SOURCES: dict[str, Source] = {s.name: s for s in (claude.SOURCE, codex.SOURCE, gemini.SOURCE)}

# The sources the status line reads a line at a time from where its last run stopped. Codex and
# Gemini logs need their whole file (cumulative counts, one JSON document), so their recent
# usage comes from the ledger's hours (as of the last scan) instead.
LINE_PARSERS: dict[str, Callable[[bytes], Event | None]] = {claude.SOURCE.name: claude.parse_line}
