"""Run a notebook with papermill after checking that every parameter name is one it declares.

Usage: python tools/run_notebook.py IN.ipynb OUT.ipynb [-p NAME VALUE | -r NAME VALUE]...
       [-- more papermill options]

papermill only warns about a parameter the notebook does not declare (``-p datset
digits-dvs``) and runs it anyway, with the default data set, overwriting that run's result.
This wrapper reads the declared names with ``papermill.inspect_notebook`` and stops (exit 2)
before a kernel starts, naming the unknown parameter and listing the declared ones; then it
runs ``papermill -k python3 --no-progress-bar IN OUT <the same options>`` unchanged. The
kernel checks the names a second time (:func:`snnlib.book.setup.start`).
"""

from __future__ import annotations

import subprocess
import sys


def parse(argv: list[str]) -> tuple[str, str, list[str], list[str], list[str]]:
    """``(input, output, names, papermill parameter options, extra options)``."""
    if len(argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    src, dst, rest = argv[0], argv[1], argv[2:]
    names, options, extra = [], [], []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            extra = rest[i + 1 :]
            break
        if arg in ("-p", "-r", "--parameters", "--parameters_raw"):
            if i + 2 >= len(rest):
                raise SystemExit(f"run_notebook: {arg} needs NAME VALUE (got {rest[i + 1 :]})")
            names.append(rest[i + 1])
            options += rest[i : i + 3]
            i += 3
            continue
        raise SystemExit(
            f"run_notebook: unknown option {arg!r}; use -p NAME VALUE, -r NAME VALUE, or put "
            "other papermill options after --"
        )
    return src, dst, names, options, extra


def main(argv: list[str]) -> int:
    import papermill

    src, dst, names, options, extra = parse(argv)
    declared = list(papermill.inspect_notebook(src))
    unknown = sorted(set(names) - set(declared))
    if unknown:
        print(
            f"run_notebook: {src} does not declare the parameter(s) {unknown}; "
            f"it declares {declared}",
            file=sys.stderr,
        )
        return 2
    cmd = [sys.executable, "-m", "papermill", "-k", "python3", "--no-progress-bar"]
    return subprocess.call([*cmd, src, dst, *options, *extra])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
