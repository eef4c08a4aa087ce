"""Task runner. ``nox`` runs lint, typecheck, the docs build and the tests; ``nox -s demo`` runs the
demo against the embedded simulator; ``nox -s bench`` the benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "docs", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[testing,cli,fastapi,smtp,redis]"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (against the embedded simulator, loopback only)."""
    session.install(EXTRAS, *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install(EXTRAS, *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    session.run("mypy")


@nox.session
def demo(session: nox.Session) -> None:
    """Start the embedded simulator and run a realistic job against it."""
    session.install(EXTRAS)
    session.run("python", "-m", "smscenter", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with peer libraries (slow; prints ratios)."""
    session.install(EXTRAS, *nox.project.dependency_groups(PYPROJECT, "bench"))
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors."""
    session.install(EXTRAS, *nox.project.dependency_groups(PYPROJECT, "docs"))
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )
