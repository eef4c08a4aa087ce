"""``python -m smscenter`` and the ``smscenter`` console script.

The command line is an optional extra (click and rich); without it, :func:`main` says how to
install it instead of failing with an import error.
"""

from __future__ import annotations

import sys

__all__ = ("main",)

INSTALL_HINT = (
    "The smscenter command line needs the 'cli' extra (click and rich):\n"
    "    pip install 'smscenter[cli]'\n"
)


def main() -> None:
    """Run the ``smscenter`` command line; exit 1 with an install hint when the extra is
    missing."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError as error:
        sys.stderr.write(f"{INSTALL_HINT}({error})\n")
        raise SystemExit(1) from None
    from smscenter.cli import cli

    cli(prog_name="smscenter")


if __name__ == "__main__":
    main()
