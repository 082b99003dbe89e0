"""Tables for the book: a pandas DataFrame as the HTML a page glues.

pandas renders a named index as an extra header row of its own (the index name alone on the
left, the column names one row above), which reads badly in a book page. ``book_table``
turns the index into ordinary leading columns and hides the positional index, so a table has
one header row (two for column MultiIndexes) and the same look as the book's Markdown tables.
"""

from __future__ import annotations

from html import escape

import pandas as pd

BOOK_TABLE_CLASS = "dataframe table"


def book_table(df: pd.DataFrame):
    """``df`` with its index (named or not, single or multi level) as leading columns, as a
    pandas ``Styler`` without the positional index; glue it or display it as it is."""
    if _index_carries_data(df):
        # an unnamed index (row labels) gets an empty header instead of pandas' "index"
        names = [n if n is not None else "" for n in df.index.names]
        flat = df.rename_axis(names).reset_index()
    else:
        flat = df.reset_index(drop=True)
    return (
        flat.style.hide(axis="index")
        .format(_cell, na_rep="")
        .set_table_attributes(f'class="{BOOK_TABLE_CLASS}"')
    )


def _cell(value) -> str:
    """Floats with at most 6 significant digits and no trailing zeros (Styler's default
    would print 393.5 as 393.500000); everything else as ``str``, HTML-escaped (a verdict
    such as ``found < CNN`` is text, not the start of a tag).

    Example:
        >>> _cell(393.5), _cell("found < CNN")
        ('393.5', 'found &lt; CNN')
    """
    if isinstance(value, float):
        return f"{value:.6g}"
    return escape(str(value))


def _index_carries_data(df: pd.DataFrame) -> bool:
    """An index is data unless it is the default 0..n-1 range without a name."""
    idx = df.index
    return not (
        isinstance(idx, pd.RangeIndex)
        and idx.start == 0
        and idx.step == 1
        and all(n is None for n in idx.names)
    )


def _cells(row: dict, columns) -> list[str]:
    return [f.format(row[k]) if row.get(k) is not None else "-" for k, _, f in columns]


def html_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """The same table as :func:`markdown_table`, as HTML (what a book page can glue from
    another notebook: myst-nb renders ``text/html`` across documents, not ``text/markdown``)."""
    align = ["left" if f == "{}" else "right" for _, _, f in columns]
    head = "".join(
        f'<th style="text-align:{a}">{escape(h)}</th>' for (_, h, _), a in zip(columns, align)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{a}">{escape(c)}</td>'
            for c, a in zip(_cells(r, columns), align)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table: ``columns`` are ``(key, header, format)``, e.g.
    ``("test_acc", "test acc", "{:.3f}")``."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    rule = "|" + "|".join("---:" if f != "{}" else ":---" for _, _, f in columns) + "|"
    body = ["| " + " | ".join(_cells(r, columns)) + " |" for r in rows]
    return "\n".join([head, rule, *body])
