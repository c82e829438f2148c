"""`boxtext` draws a table exactly as rich does off a terminal, or declines: checked against
rich itself on the report tables and on random tables (wide characters, multi-line cells,
sections, markup-looking text, too narrow a terminal)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from syncer import boxtext, render, report
from syncer.ledger import SessionUsage


def rich_text(table: Table, width: int) -> str:
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True, width=width).print(table)
    return out.getvalue()


WORDS = st.sampled_from(["", "a", "api", "2026-11-20", "1,234,567", "$95.43", "日本語", "ünïcødé", "😀 x",
                         "sonnet-4-5\nhaiku-4-5", "[bold]x[/]", "a:b:c", "tab\there", "line\n", "pipe|line"])


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.sampled_from(["Date", "Input", "Cache create", "Project", "[b]H", "列"]), min_size=1,
                     max_size=6),
    rows=st.lists(st.tuples(st.lists(WORDS, min_size=6, max_size=6), st.booleans(), st.sampled_from([None, "bold"])),
                  min_size=1, max_size=6),
    width=st.integers(20, 140),
    title=st.sampled_from([None, "Usage by date: laptop, all time, UTC", "a very long title " * 8, "x [red]y"]),
    as_text=st.booleans(),
    min_width=st.sampled_from([None, 3, 12]),
)
def test_it_draws_what_rich_draws_or_declines(
    headers: list[str], rows: list[tuple[list[str], bool, str | None]], width: int, title: str | None,
    as_text: bool, min_width: int | None,
) -> None:
    table = Table(title=title, title_justify="left")
    for i, heading in enumerate(headers):
        table.add_column(heading, justify="right" if i % 2 else "left", no_wrap=i != 1, overflow="fold",
                         min_width=min_width)
    for cells, section, style in rows:
        if section:
            table.add_section()
        table.add_row(*((Text(c) if as_text else c) for c in cells[: len(headers)]), style=style)
    drawn = boxtext.box_text(table, width)
    if drawn is not None:
        assert drawn == rich_text(table, width)


def test_the_report_tables_take_the_fast_way() -> None:
    result = report.Report("session", [], report.Totals(), [])
    for i in range(40):
        row = report.Row(f"{i:08x}-session", extra={"project": f"project-{i % 7}", "last": "2026-11-20T09:00:00Z"})
        usage = SessionUsage("claude-sonnet-4-5-20250929", False, False, i, 2 * i, 3 * i, 0, 10_000 * i, 1)
        row.totals.add_row(usage, 0.01 * i, usage.model)
        row.models[usage.model] = row.totals
        result.rows.append(row)
        result.total.add_row(row.totals, None, None)
    for width in (80, 120, 200):
        shown = render.report_table(result, title="Usage by session: laptop, all time, UTC", width=width)
        drawn = boxtext.box_text(shown.table, width)
        assert drawn is not None and drawn == rich_text(shown.table, width)
        assert len(drawn.splitlines()) == 1 + 3 + 40 + 1 + 1 + 1


def test_a_table_wider_than_the_terminal_is_left_to_rich() -> None:
    table = Table(title="t", title_justify="left")
    table.add_column("Project")
    table.add_row("x" * 50)
    assert boxtext.box_text(table, 40) is None and boxtext.box_text(table, 60) == rich_text(table, 60)


def test_wide_characters_and_lines_are_drawn_not_declined() -> None:
    table = Table(title="Usage by project: all devices, UTC", title_justify="left")
    table.add_column("Project")
    table.add_column("Models")
    table.add_column("Cost", justify="right")
    table.add_row(Text("日本語 😀"), Text("sonnet-4-5\nhaiku-4-5"), Text("$1.00"))
    table.add_section()
    table.add_row(Text("Total"), Text(""), Text("$1.00"), style="bold")
    drawn = boxtext.box_text(table, 80)
    assert drawn is not None and drawn == rich_text(table, 80) and "│ 日本語 😀 │" in drawn
