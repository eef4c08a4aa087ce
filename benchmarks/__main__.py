"""``python -m benchmarks [codec] [http] [smpp] [store] [fleet] [-- options]``: run them in turn.

With no names, all five run with their defaults (the SMPP and store ones take a few minutes
each; the fleet one about a minute, with a ``redis-server`` of its own). Options after ``--``
go to the SMPP benchmark, e.g. ``python -m benchmarks smpp -- --quick``, or to the store or
fleet benchmark when it is the only one named (``python -m benchmarks fleet -- --quick``); with
others, the fleet benchmark takes only ``--quick`` from them.
"""

from __future__ import annotations

import sys

NAMES = ("codec", "http", "smpp", "store", "fleet")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default); return the first non-zero exit code."""
    if "--" in argv:
        split = argv.index("--")
        names, smpp_args = argv[:split], argv[split + 1 :]
    else:
        names, smpp_args = argv, []
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(NAMES)}")
        return 2
    chosen = names or list(NAMES)
    store_args = smpp_args if "smpp" not in chosen else []
    fleet_args = smpp_args if chosen == ["fleet"] else [a for a in smpp_args if a == "--quick"]
    status = 0
    for name in chosen:
        print(f"\n######## benchmarks.bench_{name} ########\n", flush=True)
        if name == "codec":
            from benchmarks import bench_codec

            status = status or bench_codec.main([])
        elif name == "http":
            from benchmarks import bench_http

            bench_http.main([])
        elif name == "smpp":
            from benchmarks import bench_smpp

            status = status or bench_smpp.main(smpp_args)
        elif name == "fleet":
            from benchmarks import bench_fleet

            status = status or bench_fleet.main(fleet_args)
        else:
            from benchmarks import bench_store

            status = status or bench_store.main(store_args)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
