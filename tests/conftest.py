"""Shared fixtures. Every network test talks to 127.0.0.1 only."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
