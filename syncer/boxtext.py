"""A rich table as plain text, character for character what rich prints off a terminal, in
microseconds per row instead of rich's fraction of a millisecond per cell (`report session`
over a team's two years is thousands of rows: seconds in rich).

Only the tables ccsync draws qualify (heavy-head box, one space of padding, left or right
columns, sections, multi-line cells) and only when every cell fits whole in the width; for
anything else `box_text` returns None and the caller lets rich lay the table out. Styles
(bold, dim) are not drawn: this is for output that is not a terminal, where rich draws none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

# rich's HEAVY_HEAD box: (left, line, between columns, right) of each rule
_TOP, _HEAD, _SECTION, _BOTTOM = "┏━┳┓", "┡━╇┩", "├─┼┤", "└─┴┘"


def _width_of(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len  # noqa: PLC0415 - wide characters only: east Asian, emoji

    return cell_len(text)


def _plain(value: object, text_type: type[Text]) -> str | None:
    """The text rich would draw for a cell, header or title, or None when rich would read it
    differently (markup or emoji codes in a string, control characters, tabs, a styled Text's
    own justification)."""
    if isinstance(value, text_type):
        if value.justify is not None or value.end != "\n":
            return None
        text = value.plain
    elif isinstance(value, str):
        if "[" in value or value.count(":") > 1:
            return None
        text = value
    else:
        return None
    return None if _UNDRAWN.search(text) else text


# Control characters (rich strips or expands them) and a final newline (rich drops the empty line).
_UNDRAWN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]|\n\Z")


def box_text(table: Table, width: int) -> str | None:
    """The table as rich would print it at `width` off a terminal, or None when it needs rich."""
    from rich import box  # noqa: PLC0415 - loaded already: the table is rich's
    from rich.text import Text  # noqa: PLC0415

    if not (
        table.box is box.HEAVY_HEAD
        and table.rows
        and table.show_header and table.show_edge and not table.show_footer and not table.show_lines
        and not table.leading and not table.expand and table.width is None and table.caption is None
        and tuple(table.padding) == (0, 1, 0, 1) and table.pad_edge and not table.collapse_padding
        and (table.title is None or table.title_justify == "left")
    ):
        return None
    columns = []
    for column in table.columns:
        header = _plain(column.header, Text)
        cells = [_plain(cell, Text) for cell in column.cells]
        if header is None or None in cells or column.justify not in ("left", "right") or column.width is not None:
            return None
        lines = [cell.split("\n") for cell in cells if cell is not None]
        widest = max([_width_of(header), column.min_width or 0, *(_width_of(part) for c in lines for part in c)])
        if column.max_width is not None and widest > column.max_width:
            return None
        columns.append((header, lines, widest, column.justify == "right"))
    total = sum(w for _, _, w, _ in columns) + 3 * len(columns) + 1
    title = None if table.title is None else _plain(table.title, Text)
    if total > width or (table.title is not None and (title is None or "\n" in title or _width_of(title) > total)):
        return None

    def rule(chars: str) -> str:
        return chars[0] + chars[2].join(chars[1] * (w + 2) for _, _, w, _ in columns) + chars[3]

    def cell(text: str, w: int, right: bool) -> str:
        if text.isascii():
            return f" {text.rjust(w)} " if right else f" {text.ljust(w)} "
        pad = " " * (w - _width_of(text))
        return f" {pad}{text} " if right else f" {text}{pad} "

    # Column by column: each cell's lines padded to the column's width, then rows joined.
    padded = [[[cell(line, w, right) for line in c] for c in lines] for _, lines, w, right in columns]
    blank = [cell("", w, False) for _, _, w, _ in columns]
    out = [title] if title else []
    out.append(rule(_TOP))
    out.append("┃" + "┃".join(cell(h, w, right) for h, _, w, right in columns) + "┃")
    out.append(rule(_HEAD))
    rows = table.rows
    for i, row in enumerate(rows):
        parts = [column[i] for column in padded]
        height = max(len(p) for p in parts)
        if height == 1:
            out.append("│" + "│".join(p[0] for p in parts) + "│")
        else:
            for k in range(height):
                out.append("│" + "│".join(p[k] if k < len(p) else b for p, b in zip(parts, blank, strict=True)) + "│")
        if row.end_section and i < len(rows) - 1:
            out.append(rule(_SECTION))
    out.append(rule(_BOTTOM))
    return "\n".join(out) + "\n"
