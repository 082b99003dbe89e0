"""Keep napoleon from reading a type into the first line of an attribute's docstring.

For an attribute, property or module-level datum, napoleon (Google style) takes the text before
the first colon of the docstring's first line as the value's type: ``#: the built-in data sets
(more can be registered: ...)`` renders as the sentence's tail with "Type: the built-in data
sets (more can be registered". snnlib writes types as annotations and uses colons in prose,
so for these objects the docstring is kept as written whenever napoleon made that rewrite.
Google sections (``Args:``, ``Example:``) of functions and classes are still napoleon's.
"""

from __future__ import annotations

PLAIN = ("attribute", "data", "property")
_written: dict[tuple[str, str], list[str]] = {}


def _remember(app, what, name, obj, options, lines) -> None:
    if what in PLAIN:
        _written[what, name] = list(lines)


def _restore(app, what, name, obj, options, lines) -> None:
    original = _written.pop((what, name), None)
    if original is not None and any(line.startswith(":type:") for line in lines):
        lines[:] = original


def setup(app):
    app.setup_extension("sphinx.ext.napoleon")
    # napoleon handles autodoc-process-docstring at the default priority, 500
    app.connect("autodoc-process-docstring", _remember, priority=400)
    app.connect("autodoc-process-docstring", _restore, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
