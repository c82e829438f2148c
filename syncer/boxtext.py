"""Tables as plain data, drawn as text without rich: character for character, and on a
terminal escape code for escape code, what rich prints, at a small fraction of rich's cost
(`report session` over a team's two years is thousands of rows: seconds in rich, whose table
module alone takes longer to import than a read command's whole table step should take).

`render` builds a `Table`; `draw` lays it out as rich would, folding its one foldable column (a
project name) to fit the width, or returns None when only rich can (several columns to fold,
wide characters in the one that must, a title wider than the table, control characters);
`to_rich` makes rich's table of it for those cases and for what rich draws by other means
(a Windows console). tests/test_boxtext.py holds the drawing to rich's own output. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rich.table import Table as RichTable

# Plain classes and named tuples, no dataclasses, and characters tested by sets and ranges, not
# patterns: every read command imports this module, a frozen dataclass alone costs a millisecond
# to build, and compiling the one-cell pattern cost more than testing a table's distinct characters.

# Control characters: rich strips or expands them.
_CONTROL = frozenset(map(chr, [*range(0x0a), *range(0x0b, 0x20), 0x7f]))
# The characters rich itself knows to be one cell wide (rich.cells); others may be 0 or 2.
_SINGLE_CELLS = (("\x20", "\x7e"), ("\xa0", "\xac"), ("\xae", "\u02ff"), ("\u0370", "\u0482"), ("\u2500", "\u25fc"),
                 ("\u2800", "\u28ff"))


class Measured(NamedTuple):
    width: int  # the widest line in cells, heading included
    multiline: bool  # some cell has several lines
    wide: bool  # some cell may hold a character that is not one cell wide (east Asian, emoji, accents)
    drawn: bool  # False when only rich can draw it: control characters, a cell ending in a newline


class Column:
    """A column of text cells, or of whole counts shown with thousands separators, measured
    once: a report tries several layouts with the same figures, and the drawing needs the same
    measures."""

    __slots__ = ("header", "counts", "right", "fold", "measured", "_cells")

    def __init__(self, header: str, cells: Sequence[str] = (), *, counts: Sequence[int] | None = None,
                 right: bool = False, fold: bool = False) -> None:
        """Text `cells`, or whole `counts` (then `cells` is left out)."""
        self.header = header
        # `counts` (a report's figures: thousands of rows, six columns) are measured by their
        # extremes and formatted by `draw` inside each line's one format call, not a cell at a time.
        self.counts = counts
        self._cells = None if counts is not None else cells  # one per row, "\n" between a cell's lines
        self.right = right  # figures are right-aligned
        self.fold = fold  # the one column that may fold to fit (a project name); the others never wrap
        self.measured = _measure(header, cells) if counts is None else _measure_counts(header, counts)

    @property
    def cells(self) -> Sequence[str]:
        """Its cells as text (counts formatted when first asked: rich's table, tests)."""
        if self._cells is None:
            self._cells = [f"{n:,}" for n in self.counts or ()]
        return self._cells

    def __len__(self) -> int:
        return len(self.cells if self.counts is None else self.counts)


class Table(NamedTuple):
    columns: Sequence[Column]
    title: str | None = None
    styles: Sequence[str | None] = ()  # each row's style on a terminal ("bold", "dim"), or none at all
    sections: Collection[int] = ()  # rows drawn under a rule (the total)

    @property
    def width(self) -> int:
        """Its width in cells, every cell whole."""
        return sum(c.measured.width for c in self.columns) + 3 * len(self.columns) + 1


# rich's HEAVY_HEAD box: (left, line, between columns, right) of each rule
_TOP, _HEAD, _SECTION, _BOTTOM = "┏━┳┓", "┡━╇┩", "├─┼┤", "└─┴┘"


def _has_control(text: str) -> bool:
    return not text.isprintable() and not _CONTROL.isdisjoint(text)


def _single_cells(text: str) -> bool:
    return text.isascii() or all(any(low <= c <= high for low, high in _SINGLE_CELLS) for c in set(text))


def _width_of(text: str) -> int:
    if _single_cells(text):
        return len(text)
    from rich.cells import cell_len  # noqa: PLC0415 - wide characters only: east Asian, emoji

    return cell_len(text)


def _measure(header: str, cells: Sequence[str]) -> Measured:
    """A column's layout, each test made over its distinct cells at once (in C): a report's
    thousands of rows repeat a few projects and model lists."""
    distinct = set(cells)
    flat = "".join(distinct)
    drawn = not (_has_control(header) or "\n" in header or _has_control(flat))
    multiline = "\n" in flat
    if multiline:
        drawn = drawn and not any(cell.endswith("\n") for cell in distinct)  # rich drops the empty last line
    wide = not _single_cells(flat)
    parts = "\n".join(distinct).split("\n") if multiline else distinct
    width = max(_width_of(header), max(map(_width_of if wide else len, parts), default=0))
    return Measured(width, multiline, wide, drawn)


def _measure_counts(header: str, counts: Sequence[int]) -> Measured:
    """Whole counts: the width of `f"{n:,}"` only grows with abs(n), so the extremes' text
    measures them all."""
    return _measure(header, [f"{n:,}" for n in (max(counts), min(counts))] if counts else [])


def _pad(text: str, width: int, right: bool) -> str:
    pad = " " * (width - _width_of(text))
    return pad + text if right else text + pad


# What rich writes on a terminal for the only styles these tables use: each cell's padding and
# text as three pieces, each wrapped in its own escape codes.
_SGR = {"bold": "\x1b[1m", "dim": "\x1b[2m", "italic": "\x1b[3m"}
_RESET = "\x1b[0m"


def _styled(style: str | None, inner: str) -> str:
    """A cell (its inner text or format) with its spaces, as rich writes it in `style`."""
    if style is None:
        return f" {inner} "
    on = _SGR[style]
    return f"{on} {_RESET}{on}{inner}{_RESET}{on} {_RESET}"


def _blank(style: str | None, width: int) -> str:
    """Below a cell's last line, while another cell of its row goes on: one piece, spaces included."""
    blank = " " * (width + 2)
    return blank if style is None else _SGR[style] + blank + _RESET


def _folded(table: Table, width: int) -> Table | None:
    """The table at `width` when only its one foldable column must give up cells for it, as rich
    lays it out (`Table._collapse_widths`: all the excess from that column), or None for rich."""
    folding = [column for column in table.columns if column.fold]
    if len(folding) != 1:
        return None
    column, = folding
    m = column.measured
    narrower = m.width - (table.width - width)
    if m.multiline or m.wide or not column.header.isascii() or len(column.header) > narrower or narrower < 1:
        return None
    lines = {cell: "\n".join(_fold_lines(cell, narrower, column.right)) for cell in set(column.cells)}
    folded = Column(column.header, [lines[cell] for cell in column.cells], right=column.right)
    folded.measured = folded.measured._replace(width=narrower)  # rich's width, however short the lines
    return table._replace(columns=[folded if c is column else c for c in table.columns])


def _fold_lines(text: str, width: int, right: bool) -> list[str]:
    """A cell of one line and one-cell characters as rich wraps it in `width` cells (`rich._wrap.
    divide_line` with fold, then `Text.rstrip_end` and the column's justification): at the
    spaces between words, a word longer than a line cut in pieces."""
    breaks: list[int] = []
    offset = 0
    for match in re.finditer(r"\s*\S+\s*", text):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            pieces = [word[i:i + width] for i in range(0, len(word), width)]
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            offset = len(pieces[-1])
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    lines = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text)], strict=True)]
    for i, line in enumerate(lines):
        if len(line) > width:  # rstrip_end: spaces past the width go
            line = line[:max(width, len(line.rstrip()))]
        lines[i] = (line.rstrip() if right else line)[:width]
    return lines


def draw(table: Table, width: int, *, styled: bool = False) -> str | None:
    """The table as rich would print it at `width`, or None when it needs rich: off a terminal,
    or `styled`, on a terminal that takes escape codes (bold, dim, italic)."""
    if table.width > width:
        folded = _folded(table, width)
        if folded is None:
            return None
        table = folded
    columns = table.columns
    measured, total = [c.measured for c in columns], table.width
    rows = len(columns[0]) if columns else 0
    title = table.title
    styles = list(table.styles) if styled and table.styles else [None] * rows
    if not rows or not all(m.drawn for m in measured) or not set(styles) <= {None, *_SGR}:
        return None
    if title is not None and (_has_control(title) or "\n" in title or _width_of(title) > total):
        return None

    def rule(chars: str) -> str:
        return chars[0] + chars[2].join(chars[1] * (w + 2) for w, *_ in measured) + chars[3]

    # One format call per line: it pads the columns of one-cell characters and writes the counts
    # with their separators; the columns that may hold wide characters are padded here, by cells.
    specs: list[str] = []
    firsts: list[Sequence[str] | Sequence[int]] = []  # each column's first line of each row
    for column, m in zip(columns, measured, strict=True):
        align = ">" if column.right else "<"
        if column.counts is not None:
            specs.append(f"{{:{align}{m.width},}}")
            firsts.append(column.counts)
            continue
        first = [cell.partition("\n")[0] for cell in column.cells] if m.multiline else column.cells
        if column.right:  # rich right-justifies a line without its trailing spaces
            first = [cell.rstrip() for cell in first]
        if m.wide:  # padded once per distinct cell: measuring a wide character is slow
            padded = {text: _pad(text, m.width, column.right) for text in set(first)}
            specs.append("{}")
            firsts.append([padded[text] for text in first])
        else:
            specs.append(f"{{:{align}{m.width}}}")
            firsts.append(first)
    formats = {style: ("│" + "│".join(_styled(style, spec) for spec in specs) + "│").format
               for style in {None, *styles}}
    body = list(map(formats[None], *firsts))
    for i, style in enumerate(styles):
        if style is not None:  # a few rows (the total), or under each session with --breakdown
            body[i] = formats[style](*(cells[i] for cells in firsts))
    # A cell of several lines (a session's models): its row's further lines, blank in the columns
    # whose cells have no more. Hundreds of rows share a few such cells: each is drawn once.
    spread = [j for j, m in enumerate(measured) if m.multiline]

    def further_lines(style: str | None, cells: tuple[str, ...]) -> str:
        split = [cell.split("\n") for cell in cells]
        lines = []
        for k in range(1, max(map(len, split))):
            pieces = [_blank(style, m.width) for m in measured]
            for j, cell_lines in zip(spread, split, strict=True):
                if k < len(cell_lines):
                    line = cell_lines[k].rstrip() if columns[j].right else cell_lines[k]
                    pieces[j] = _styled(style, _pad(line, measured[j].width, columns[j].right))
            lines.append("\n│" + "│".join(pieces) + "│")
        return "".join(lines)

    further: dict[tuple[str | None, tuple[str, ...]], str] = {}
    for i in {i for j in spread for i, cell in enumerate(columns[j].cells) if "\n" in cell}:
        key = (styles[i], tuple(columns[j].cells[i] for j in spread))
        if key not in further:
            further[key] = further_lines(*key)
        body[i] += further[key]
    for i in table.sections:
        if 0 < i < rows:
            body[i] = rule(_SECTION) + "\n" + body[i]
    bold = "bold" if styled else None
    header = "┃" + "┃".join(_styled(bold, _pad(c.header, m.width, c.right))
                            for c, m in zip(columns, measured, strict=True)) + "┃"
    if title and styled:
        title = _SGR["italic"] + title + _RESET
    return "\n".join([*([title] if title else []), rule(_TOP), header, rule(_HEAD), *body, rule(_BOTTOM)]) + "\n"


def to_rich(table: Table) -> RichTable:
    """rich's table of it: every text literal (no markup), figures and dates never wrapping."""
    from rich.table import Table as RichTable  # noqa: PLC0415 - a terminal, or a table only rich can lay out
    from rich.text import Text  # noqa: PLC0415

    # A title in the style rich gives a string title, without reading markup in it.
    title = None if table.title is None else Text(table.title, style="table.title")
    out = RichTable(title=title, title_justify="left")
    for column in table.columns:
        out.add_column(Text(column.header), justify="right" if column.right else "left", overflow="fold",
                       no_wrap=not column.fold, min_width=None if column.fold else column.measured.width)
    rows = list(zip(*(c.cells for c in table.columns), strict=True))
    styles = table.styles or [None] * len(rows)
    sections = set(table.sections)
    for i, (cells, style) in enumerate(zip(rows, styles, strict=True)):
        if i in sections:
            out.add_section()
        out.add_row(*(Text(cell) for cell in cells), style=style)
    return out

