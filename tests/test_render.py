"""Text rendering: figures as people read them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer import render, report
from syncer.scan import ScanResult
from syncer.usage import Usage


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


def _priced(cost: float, unpriced: frozenset[str] = frozenset(), *, priced: bool = True) -> report.Totals:
    totals = report.Totals(Usage(1, 2, 3, 0, 4), 1)
    totals.cost_usd, totals.unpriced, totals.priced = cost, unpriced, priced
    return totals


def test_a_tables_costs_are_money_of_each_total_around_every_edge() -> None:
    """The table writes most costs without `money` (thousands of rows): the edges where its
    shortcut would differ (under a cent, $999.995 rounding up to $1,000.00, unpriced models,
    no price at all) are each total's `money` all the same."""
    costs = [0.0, 0.004, 0.005, 0.0051, 0.01, 1.0, 999.98, 999.985, 999.99, 999.994, 999.995, 999.999, 1000.0,
             1234.5, 1e9, -1.0, -0.004, float("nan")]
    mystery = frozenset({"mystery"})
    totals = [*map(_priced, costs), _priced(2.5, mystery), _priced(0.0, mystery, priced=False)]
    result = report.Report("daily", [report.Row(f"day-{i:02}", t) for i, t in enumerate(totals)], report.Totals(), [])
    table = render.report_table(result, title="t", width=500).table
    cells = [column.cells for column in table.columns if column.header == "Cost"][0]
    expected = [render.money(c) for c in costs] + ["$2.50*", "unknown"]
    assert list(cells[:-1]) == expected
    assert "$999.99" in expected and "$1,000.00" in expected and "<$0.01" in expected


@given(st.lists(st.integers(-10**13, 10**13) | st.integers(-100_001, 100_001) | st.sampled_from([99_999, 100_000]),
                max_size=20))
def test_a_narrow_tables_counts_are_compact_tokens_of_each(counts: list[int]) -> None:
    assert render._compact_counts(counts) == [render.compact_tokens(n) for n in counts]
