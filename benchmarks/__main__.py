"""``python -m benchmarks [codec] [http] [smpp] [fleet] [-- options]``: run the benchmarks in turn.

With no names, all four run with their defaults (the SMPP one takes a few minutes; the fleet
one, about a minute, needs a ``redis-server``). Options after ``--`` go to the SMPP benchmark
(the fleet one takes ``--quick`` from them), e.g. ``python -m benchmarks smpp -- --quick``; run
``python -m benchmarks.bench_fleet --help`` for the fleet one's own.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default); return the first non-zero exit code."""
    if "--" in argv:
        split = argv.index("--")
        names, smpp_args = argv[:split], argv[split + 1 :]
    else:
        names, smpp_args = argv, []
    known = ("codec", "http", "smpp", "fleet")
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(known)}")
        return 2
    chosen = names or list(known)
    status = 0
    for name in chosen:
        print(f"\n######## benchmarks.bench_{name} ########\n", flush=True)
        if name == "codec":
            from benchmarks import bench_codec

            status = status or bench_codec.main([])
        elif name == "http":
            from benchmarks import bench_http

            bench_http.main([])
        elif name == "fleet":
            from benchmarks import bench_fleet

            # Of the options, only --quick means the same to both.
            status = status or bench_fleet.main([a for a in smpp_args if a == "--quick"])
        else:
            from benchmarks import bench_smpp

            status = status or bench_smpp.main(smpp_args)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
