"""Text rendering: figures as people read them."""

from __future__ import annotations

import pytest

from syncer import render
from syncer.scan import ScanResult


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (1_536_000, "1.5 MB"),
                                     (1_000_000_000, "1 GB"), (2_345_000_000_000, "2.3 TB")])
def test_byte_sizes(n: int, text: str) -> None:
    assert render.byte_size(n) == text


@pytest.mark.parametrize("n, text", [(999, "999"), (100_000, "100k"), (2_658, "2.7k"), (1.5e9, "1.5B")])
def test_compact_figures(n: float, text: str) -> None:
    assert render.compact(n) == text


def test_scan_line_names_bytes_and_tokens() -> None:
    result = ScanResult(files=1745, files_read=1745, bytes_read=1_004_700_000, events=68_884,
                        tokens=[1, 2, 3, 0, 4, 5])
    assert render.scan_line(result) == (
        "Read 1,745 of 1,745 log files (1 GB): 68,884 new responses, +6 tokens (+4 cache reads)"
    )
    one = ScanResult(files=1, files_read=1, bytes_read=492, events=1, tokens=[3, 0, 0, 0, 0, 1], bad_lines=1)
    assert render.scan_line(one) == "Read 1 of 1 log file (492 B): 1 new response, +3 tokens (+0 cache reads), " \
                                    "1 bad line skipped"
    assert render.scan_line(ScanResult(files=1)) == "Nothing new in 1 log file."


def test_status_pending_bytes() -> None:
    assert render.status_value("pending_bytes", 2_500_000) == "2.5 MB not yet read"
