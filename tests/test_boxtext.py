"""`boxtext` draws a table exactly as rich draws the same table (`to_rich`) off a terminal, or
declines: checked against rich itself on the report tables and on random tables (wide
characters, multi-line cells, sections, markup-looking text, too narrow a terminal)."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from syncer import boxtext, render, report
from syncer.ledger import SessionUsage


def rich_text(table: boxtext.Table, width: int, *, terminal: bool = False, no_color: bool = False) -> str:
    """What rich prints: off a terminal, or on one (any colour system: these tables use only bold,
    dim and italic, which NO_COLOR keeps)."""
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True, width=width, force_terminal=terminal, no_color=no_color,
            color_system="standard" if terminal else None).print(boxtext.to_rich(table))
    return out.getvalue()


WORDS = st.sampled_from(["", "a", "api", "2026-11-20", "1,234,567", "$95.43", "日本語", "ünïcødé", "😀 x", "e\u0301",
                         "sonnet-4-5\nhaiku-4-5", "[bold]x[/]", "a:b:c", ":smile:", "tab\there", "line\n",
                         "pipe|line", "100%", "%s"])


@settings(max_examples=300, deadline=None)
@given(
    columns=st.lists(st.tuples(st.sampled_from(["Date", "Input", "Cache create", "Project", "[b]H", "列", "%d"]),
                               st.booleans(), st.booleans()), min_size=1, max_size=6),
    rows=st.lists(st.tuples(st.lists(WORDS, min_size=6, max_size=6), st.booleans(),
                            st.sampled_from([None, "bold", "dim"])),
                  min_size=1, max_size=6),
    width=st.integers(20, 140),
    title=st.sampled_from([None, "", "Usage by date: laptop, all time, UTC", "a very long title " * 8, "x [red]y",
                           "a:b:c :smile:"]),
    terminal=st.booleans(),
    no_color=st.booleans(),
)
def test_it_draws_what_rich_draws_or_declines(
    columns: list[tuple[str, bool, bool]], rows: list[tuple[list[str], bool, str | None]], width: int,
    title: str | None, terminal: bool, no_color: bool,
) -> None:
    table = boxtext.Table(
        [boxtext.Column(heading, [cells[i] for cells, _, _ in rows], right=right, fold=fold)
         for i, (heading, right, fold) in enumerate(columns)],
        title=title, styles=[style for _, _, style in rows],
        sections=[i for i, (_, rule, _) in enumerate(rows) if rule],
    )
    drawn = boxtext.draw(table, width, styled=terminal)
    if drawn is not None:
        assert drawn == rich_text(table, width, terminal=terminal, no_color=no_color)
    if all(c.measured.drawn for c in table.columns) and table.width <= width and "\n" not in (title or "") \
            and len(title or "") <= table.width:
        assert drawn is not None  # markup, emoji codes, wide characters: drawn, not left to rich


def report_of(sessions: int) -> report.Report:
    result = report.Report("session", [], report.Totals(), [])
    for i in range(sessions):
        row = report.Row(f"{i:08x}-session", extra={"project": f"project-{i % 7}", "last": "2026-11-20T09:00:00Z"})
        for model in ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")[: 1 + i % 2]:
            usage = SessionUsage(model, False, False, i, 2 * i, 3 * i, 0, 10_000 * i, 1)
            totals = row.models.setdefault(model, report.Totals())
            totals.add_row(usage, 0.01 * i, usage.model)
            row.totals.add_row(usage, 0.01 * i, usage.model)
        result.rows.append(row)
        result.total.add_row(row.totals, None, None)
    return result


def test_the_report_tables_take_the_fast_way() -> None:
    result = report_of(40)
    for width in (80, 120, 200):
        for breakdown in (False, True):
            shown = render.report_table(result, title="Usage by session: laptop, all time, UTC", width=width,
                                        breakdown=breakdown)
            drawn = boxtext.draw(shown.table, width)
            assert drawn is not None and drawn == rich_text(shown.table, width)
            # title, 3 heading lines, 40 rows (20 of two models on two lines, and a row per model with
            # --breakdown), the rule, the total, the bottom
            assert len(drawn.splitlines()) == 1 + 3 + 40 + 20 * (1 + 2 * breakdown) + 1 + 1 + 1


def test_a_table_wider_than_the_terminal_folds_its_project_column_as_rich_does() -> None:
    table = boxtext.Table([boxtext.Column("Project", ["x" * 50], fold=True)], title="t")
    assert boxtext.draw(table, 40) == rich_text(table, 40) and "x" * 36 in rich_text(table, 40)
    assert boxtext.draw(table, 60) == rich_text(table, 60)
    two = boxtext.Table([boxtext.Column("Project", ["x" * 50], fold=True), boxtext.Column("B", ["y" * 50], fold=True)])
    narrow_header = boxtext.Table([boxtext.Column("Project", ["x" * 20], fold=True), boxtext.Column("B", ["y" * 60])])
    wide = boxtext.Table([boxtext.Column("Project", ["日本語" * 20], fold=True)])
    for declined in (two, narrow_header, wide):  # rich shares the excess out, folds the heading, measures cells
        assert boxtext.draw(declined, 70) is None


PROJECTS = st.text(st.sampled_from("ab- _.\xa0"), max_size=40) | st.sampled_from(
    ["", "shop", "design-system", "my project", "a  b", "  lead", "trail  ", "x" * 90, "(none)", "[b]x[/b]"])


@settings(max_examples=400, deadline=None)
@given(projects=st.lists(PROJECTS, min_size=1, max_size=6), width=st.integers(30, 130), right=st.booleans(),
       terminal=st.booleans(), models=st.booleans())
def test_a_folded_project_column_is_what_rich_draws(
    projects: list[str], width: int, right: bool, terminal: bool, models: bool
) -> None:
    """A session table too wide for the terminal: the project column folds (at spaces, long words
    cut), every other column keeps its width, as rich lays it out; the one case a team's session
    table on an 80-column terminal left to rich, which took seconds over a thousand rows."""
    n = len(projects)
    table = boxtext.Table(
        [boxtext.Column("Session", [f"{i:08x}" for i in range(n)]),
         boxtext.Column("Project", projects, right=right, fold=True),
         boxtext.Column("Models", ["sonnet-4-5\nhaiku-4-5" if models and i % 2 else "opus-4-6" for i in range(n)]),
         boxtext.Column("Processed", counts=[10**i for i in range(n)], right=True)],
        title="Usage by session", styles=["bold" if i == n - 1 else None for i in range(n)], sections=[n - 1])
    drawn = boxtext.draw(table, width, styled=terminal)
    if drawn is not None:
        assert drawn == rich_text(table, width, terminal=terminal)
    fold = table.columns[1].measured.width - max(0, table.width - width)
    if fold >= len("Project"):
        assert drawn is not None


def test_wide_characters_and_lines_are_drawn_not_declined() -> None:
    table = boxtext.Table(
        [boxtext.Column("Project", ["日本語 😀", "Total"]), boxtext.Column("Models", ["sonnet-4-5\nhaiku-4-5", ""]),
         boxtext.Column("Cost", ["$1.00", "$1.00"], right=True)],
        title="Usage by project: all devices, UTC", styles=[None, "bold"], sections=[1],
    )
    drawn = boxtext.draw(table, 80)
    assert drawn is not None and drawn == rich_text(table, 80) and "│ 日本語 😀 │" in drawn


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(-10**13, 10**13) | st.integers(-2000, 2000), min_size=1, max_size=8),
       right=st.booleans(), terminal=st.booleans(), header=st.sampled_from(["Input", "", "Cache create", "日本"]))
def test_a_column_of_counts_is_its_formatted_cells(counts: list[int], right: bool, terminal: bool, header: str) -> None:
    """Counts are measured from their extremes and formatted while drawing: the same table,
    character for character, as their text with thousands separators (and rich's)."""
    label = boxtext.Column("Date", [f"day {i}" for i in range(len(counts))])
    as_counts = boxtext.Column(header, counts=counts, right=right)
    as_text = boxtext.Column(header, [f"{n:,}" for n in counts], right=right)
    assert as_counts.measured == as_text.measured and as_counts.cells == as_text.cells and len(as_counts) == len(counts)
    styles = ["bold", *[None] * (len(counts) - 1)]
    tables = [boxtext.Table([label, column], title="t", styles=styles, sections=[len(counts) - 1])
              for column in (as_counts, as_text)]
    drawn = boxtext.draw(tables[0], 80, styled=terminal)
    assert drawn is not None and drawn == boxtext.draw(tables[1], 80, styled=terminal)
    assert drawn == rich_text(tables[0], 80, terminal=terminal)


def test_character_tests_match_the_patterns_they_replace() -> None:
    """The one-cell and control tests, sets and ranges instead of patterns, over every character
    up to U+30000 and in a string, against the patterns (rich.cells' one-cell ranges)."""
    one_cell = re.compile(r"[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u0482\u2500-\u25fc\u2800-\u28ff]*")
    control = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
    for text in [*map(chr, range(0x30000)), "café-app", "ab\u0301c", "x\ty", "a\nb", "│ ok ┃", ""]:
        assert boxtext._single_cells(text) == (text.isascii() or one_cell.fullmatch(text) is not None), repr(text)
        assert boxtext._has_control(text) == (control.search(text) is not None), repr(text)
