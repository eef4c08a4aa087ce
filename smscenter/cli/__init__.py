"""The ``smscenter`` command line (the ``cli`` extra: click and rich).

``smscenter --help`` lists the commands; docs/cli.md describes each with examples. The console
script enters through :func:`smscenter.__main__.main`, which prints an install hint when the
extra is missing.
"""

from __future__ import annotations

from smscenter.cli.app import cli as cli

__all__ = ("cli",)
