"""book_table: the index becomes a column, one header row, the book's table class."""

import pandas as pd

from snnlib.book.tables import book_table


def test_named_index_becomes_first_column_with_one_header_row():
    df = pd.DataFrame({"acc": [0.9, 0.8]}, index=pd.Index(["a", "b"], name="method"))
    html = book_table(df).to_html()
    assert html.count("<tr>") == 3  # one header row, two body rows
    assert html.index(">method<") < html.index(">acc<")  # the index name heads the first column
    assert ">a<" in html and 'class="dataframe table"' in html


def test_default_range_index_is_dropped_and_multiindex_columns_kept():
    df = pd.DataFrame({"x": [1, 2]})
    html = book_table(df).to_html()
    assert ">0<" not in html.split("<tbody>")[1].split("</td>")[0]  # no positional index cell
    mi = pd.DataFrame(
        [[1, 2]],
        columns=pd.MultiIndex.from_product([["paper"], ["acc", "T"]]),
        index=pd.Index(["MA-DARTS"], name="method"),
    )
    out = book_table(mi).to_html()
    assert ">paper<" in out and ">MA-DARTS<" in out and ">method<" in out


def test_unnamed_row_labels_get_an_empty_header():
    df = pd.DataFrame({"ms": [1.0]}, index=["conv"])
    html = book_table(df).to_html()
    assert ">conv<" in html and ">index<" not in html


def test_floats_are_short():
    html = book_table(pd.DataFrame({"s": [393.5, 0.1234567]})).to_html()
    assert ">393.5<" in html and ">0.123457<" in html and "393.500000" not in html


def test_book_table_escapes_text_cells():
    """A verdict label such as ``found < CNN`` is text: escaped, never a tag."""
    html = book_table(
        pd.DataFrame({"verdict": ["found < CNN", "a & b"], "x": [1.5, 2.0]})
    ).to_html()
    assert "found &lt; CNN" in html and "a &amp; b" in html and "found < CNN" not in html
