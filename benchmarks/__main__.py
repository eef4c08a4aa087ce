"""``python -m benchmarks [codec] [http] [smpp] [-- smpp options]``: run the benchmarks in turn.

With no names, all three run with their defaults (the SMPP one takes a few minutes). Options
after ``--`` go to the SMPP benchmark, e.g. ``python -m benchmarks smpp -- --quick``.
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
    unknown = [name for name in names if name not in ("codec", "http", "smpp")]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from codec, http, smpp")
        return 2
    chosen = names or ["codec", "http", "smpp"]
    status = 0
    for name in chosen:
        print(f"\n######## benchmarks.bench_{name} ########\n", flush=True)
        if name == "codec":
            from benchmarks import bench_codec

            status = status or bench_codec.main([])
        elif name == "http":
            from benchmarks import bench_http

            bench_http.main([])
        else:
            from benchmarks import bench_smpp

            status = status or bench_smpp.main(smpp_args)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
