"""``python -m benchmarks [names...] [--quick] [--repeats N] [--threads N] ...``

Without names, runs every benchmark. Each writes ``data/results/bench__<name>.json``
(``$SNNLIB_RESULTS`` or ``--out`` elsewhere) and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback

from . import BENCHMARKS, load
from .harness import BenchConfig, default_threads, run_benchmark


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "names",
        nargs="*",
        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)}); "
        "a prefix such as b1 is enough",
    )
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat (a check, not a measurement)"
    )
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 15, quick 1)")
    ap.add_argument(
        "--warmup", type=int, default=None, help="untimed warm-up rounds (default 2, quick 0)"
    )
    ap.add_argument(
        "--threads", type=int, default=default_threads(), help="torch threads (default %(default)s)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    ap.add_argument("--out", default=None, help="folder for bench__*.json (default: data/results)")
    args = ap.parse_args(argv)

    cfg = BenchConfig(
        quick=args.quick,
        repeats=args.repeats,
        warmup=args.warmup,
        threads=args.threads,
        seed=args.seed,
        device=args.device,
        out_dir=args.out,
        compile=False if args.no_compile else None,
    )
    failed = []
    for name in args.names or BENCHMARKS:
        module = load(name)
        t0 = time.perf_counter()
        print(f">> {module.NAME}: {module.DESCRIPTION}", flush=True)
        try:
            path = run_benchmark(module, cfg)
        except Exception:  # noqa: BLE001 - report, go on with the others
            traceback.print_exc()
            failed.append(module.NAME)
            continue
        data = json.loads(path.read_text())
        line = module.headline(data["metrics"]) if hasattr(module, "headline") else ""
        print(f"   {line}\n   wrote {path} ({time.perf_counter() - t0:.1f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
