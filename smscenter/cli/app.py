"""The ``smscenter`` click group: the global options, logging, and the verbs registered on it.

Each command resolves its settings (:mod:`smscenter.cli.settings`), runs one coroutine on
asyncio and prints through rich. Every error is reported as one line on stderr, scrubbed of
every secret the run has seen, with exit status 1; ``-v`` logs (scrubbed too) to stderr. What
the commands share is in :mod:`smscenter.cli._common`; each verb group in its own module.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import click

from smscenter._version import __version__
from smscenter.cli._common import _State
from smscenter.cli.bulk_cmd import bulk
from smscenter.cli.fleet_cmd import worker
from smscenter.cli.listen_cmd import listen
from smscenter.cli.report_cmd import report
from smscenter.cli.send_cmd import balance, cost, send, status
from smscenter.cli.settings import scrub
from smscenter.cli.simulate_cmd import demo, simulate

__all__ = ("cli",)


class _ScrubFilter(logging.Filter):
    """Rewrites every record so no secret of this run reaches the log output."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self._secrets)
        record.args = None
        if record.exc_info:
            record.exc_text = scrub(
                "".join(traceback.format_exception(*record.exc_info)), self._secrets
            )
            record.exc_info = None
        return True


def _setup_logging(verbose: int, secrets: list[str]) -> Callable[[], None]:
    """Route logging for this run; returns the function that undoes it."""
    if not verbose:
        # Without -v, the library's warnings (a bind that dropped and came back ...) would
        # break into the tables and progress bars; errors are reported by the commands.
        quiet = logging.NullHandler()
        logging.getLogger("smscenter").addHandler(quiet)
        return lambda: logging.getLogger("smscenter").removeHandler(quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ScrubFilter(secrets))
    level = logging.INFO if verbose == 1 else logging.DEBUG
    loggers = [
        logging.getLogger(name)
        for name in (("smscenter", "httpx", "httpcore") if verbose > 1 else ("smscenter",))
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
        logger.addHandler(handler)

    def undo() -> None:
        for logger, old in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(old)

    return undo


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file [default: $SMSC_CONFIG or ~/.config/smscenter/config.toml].",
)
@click.option("--login", help="Account login [env SMSC_LOGIN].")
@click.option(
    "--password",
    help="Password [env SMSC_PASSWORD]. Prefer the environment or the config file: "
    "command lines are visible to other users.",
)
@click.option("--password-md5", help="Lowercase hex MD5 of the password [env SMSC_PASSWORD_MD5].")
@click.option("--api-key", help="API key instead of login and password [env SMSC_API_KEY].")
@click.option("--base-url", help="Provider site [env SMSC_BASE_URL; default https://smsc.ru].")
@click.option("--smpp-host", help="SMPP host [env SMSC_SMPP_HOST; default smpp.<site>].")
@click.option("--smpp-port", type=int, help="SMPP port [env SMSC_SMPP_PORT; default 3700].")
@click.option("--smpp-tls/--no-smpp-tls", default=None, help="TLS for SMPP [env SMSC_SMPP_TLS].")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv: also HTTP internals).")
@click.version_option(__version__, prog_name="smscenter")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    login: str | None,
    password: str | None,
    password_md5: str | None,
    api_key: str | None,
    base_url: str | None,
    smpp_host: str | None,
    smpp_port: int | None,
    smpp_tls: bool | None,
    verbose: int,
) -> None:
    """Send and track messages through SMS Center (smsc.ru / smscentre.com).

    Credentials come from the flags, the environment (SMSC_LOGIN, SMSC_PASSWORD, SMSC_API_KEY,
    ...) or the config file, in that order. Try `smscenter demo` (no account needed) or
    `smscenter simulate` to get a local stand-in for the provider.
    """
    flags: dict[str, object | None] = {
        "login": login,
        "password": password,
        "password_md5": password_md5,
        "api_key": api_key,
        "base_url": base_url,
        "smpp_host": smpp_host,
        "smpp_port": smpp_port,
        "smpp_tls": smpp_tls,
    }
    state = _State(flags=flags, config_path=config_path, verbose=verbose)
    # Secrets known before any file is read; the file's are added when it is.
    state.secrets.extend(s for s in (password, password_md5, api_key) if s)
    for var in ("SMSC_PASSWORD", "SMSC_PASSWORD_MD5", "SMSC_API_KEY"):
        if os.environ.get(var):
            state.secrets.append(os.environ[var])
    ctx.obj = state
    ctx.call_on_close(_setup_logging(verbose, state.secrets))


# --- the verbs, each group in its own module -----------------------------------------------------

for _command in (send, cost, status, balance, bulk, listen, simulate, demo, report, worker):
    cli.add_command(_command)
del _command
