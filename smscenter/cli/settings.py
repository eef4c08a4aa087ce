"""Where the CLI's credentials and addresses come from: flags, then environment, then a file.

Each setting is taken from the first of these that has it:

1. command-line flags (``--login``, ``--password`` ...);
2. environment variables (``SMSC_LOGIN``, ``SMSC_PASSWORD`` ...);
3. a TOML config file: ``--config PATH``, else ``$SMSC_CONFIG``, else
   ``$XDG_CONFIG_HOME/smscenter/config.toml`` (``~/.config/smscenter/config.toml``).

The secret (password, MD5 of the password or API key) is taken as a whole from the first layer
that names one, so a key in the environment is not mixed with a password from the file. This
module has no click or rich dependency, so it is tested on plain dicts.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from smscenter.config import Credentials

__all__ = (
    "ENV_VARS",
    "ConfigError",
    "Settings",
    "default_config_path",
    "resolve_settings",
    "scrub",
)

DEFAULT_BASE_URL: Final = "https://smsc.ru"
DEFAULT_SMPP_PORT: Final = 3700

#: setting name -> environment variable.
ENV_VARS: Final[Mapping[str, str]] = {
    "login": "SMSC_LOGIN",
    "password": "SMSC_PASSWORD",
    "password_md5": "SMSC_PASSWORD_MD5",
    "api_key": "SMSC_API_KEY",
    "base_url": "SMSC_BASE_URL",
    "smpp_host": "SMSC_SMPP_HOST",
    "smpp_port": "SMSC_SMPP_PORT",
    "smpp_tls": "SMSC_SMPP_TLS",
}
_SECRETS: Final = ("password", "password_md5", "api_key")
_KNOWN: Final = frozenset(ENV_VARS)


class ConfigError(Exception):
    """The settings are missing, contradictory or malformed (the message names which)."""


@attrs.frozen(kw_only=True)
class Settings:
    """Resolved settings of one CLI run. Its ``repr`` never shows a secret.

    :ivar credentials: ``None`` when no login or key was given anywhere (commands that need
        them say so).
    :ivar secrets: every secret string seen in any layer, used or not, to scrub output.
    """

    credentials: Credentials | None
    base_url: str = DEFAULT_BASE_URL
    smpp_host: str | None = None
    smpp_port: int = DEFAULT_SMPP_PORT
    smpp_tls: bool = False
    config_path: Path | None = None
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)
    warnings: tuple[str, ...] = ()

    def require_credentials(self) -> Credentials:
        """The credentials, or :class:`ConfigError` saying how to give them."""
        if self.credentials is None:
            raise ConfigError(
                "no credentials: pass --login and --password (or --api-key), set SMSC_LOGIN and "
                "SMSC_PASSWORD (or SMSC_API_KEY), or write them to the config file"
                f" ({self.config_path or default_config_path()})"
            )
        return self.credentials

    def smpp_address(self) -> tuple[str, int]:
        """The SMPP host and port: given ones, else ``smpp.<host of the base URL>``."""
        if self.smpp_host:
            return self.smpp_host, self.smpp_port
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host.startswith("www."):
            host = host[4:]
        if not host or host.replace(".", "").isdigit() or host == "localhost":
            return host or "127.0.0.1", self.smpp_port
        return f"smpp.{host}", self.smpp_port


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$SMSC_CONFIG``, else ``$XDG_CONFIG_HOME/smscenter/config.toml``, else
    ``~/.config/smscenter/config.toml``."""
    env = os.environ if env is None else env
    if env.get("SMSC_CONFIG"):
        return Path(env["SMSC_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "smscenter" / "config.toml"


def _read_file(path: Path, *, explicit: bool) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config file not found: {path}") from None
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # The parser's message names a line and column, never the value itself.
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    # A [smscenter] table is accepted too, for files shared with other tools.
    if isinstance(data.get("smscenter"), dict):
        data = data["smscenter"]
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {unknown}; known: {sorted(_KNOWN)}")
    return data


def _str(value: object, name: str, origin: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{name} in {origin} must be a string")
    return str(value)


def _bool(value: object, name: str, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} in {origin} must be true or false")


def resolve_settings(
    flags: Mapping[str, object | None],
    env: Mapping[str, str] | None = None,
    *,
    config_path: Path | str | None = None,
    ask_password: Callable[[str], str] | None = None,
) -> Settings:
    """Merge flags, environment and config file into :class:`Settings`.

    :param flags: setting name -> value given on the command line (``None``: not given).
    :param env: the environment (``os.environ`` by default).
    :param config_path: ``--config``; a named file must exist, the default one may not.
    :param ask_password: called with the login when a login but no secret is set anywhere
        (the CLI prompts on a terminal); without it that is an error.
    :raises ConfigError: contradictory or malformed settings.
    """
    env = os.environ if env is None else env
    explicit = config_path is not None
    path = Path(config_path).expanduser() if config_path is not None else default_config_path(env)
    file_layer = _read_file(path, explicit=explicit or bool(env.get("SMSC_CONFIG")))
    layers: list[tuple[str, dict[str, object]]] = [
        ("the command line", {k: v for k, v in flags.items() if v not in (None, "")}),
        (
            "the environment",
            {k: env[var] for k, var in ENV_VARS.items() if env.get(var)},
        ),
        (f"config file {path}", {k: v for k, v in file_layer.items() if v not in (None, "")}),
    ]
    seen_secrets: list[str] = []
    for _origin, layer in layers:
        seen_secrets.extend(str(layer[s]) for s in _SECRETS if layer.get(s))
    warnings = []
    if any(file_layer.get(s) for s in _SECRETS) and _readable_by_others(path):
        warnings.append(
            f"config file {path} holds a secret and is readable by other users; "
            f"run: chmod 600 {path}"
        )

    def pick(name: str) -> tuple[object | None, str]:
        for origin, layer in layers:
            if name in layer:
                return layer[name], origin
        return None, ""

    if ask_password is not None and not any(s in layer for _, layer in layers for s in _SECRETS):
        login_value, _origin = pick("login")
        if login_value is not None:
            typed = ask_password(str(login_value))
            if typed:
                layers.insert(0, ("the prompt", {"password": typed}))
                seen_secrets.append(typed)
    credentials = _credentials(layers, pick)
    base_url, origin = pick("base_url")
    smpp_host, host_origin = pick("smpp_host")
    smpp_port, port_origin = pick("smpp_port")
    smpp_tls, tls_origin = pick("smpp_tls")
    port = DEFAULT_SMPP_PORT
    if smpp_port is not None:
        try:
            port = int(_str(smpp_port, "smpp_port", port_origin))
        except ValueError:
            raise ConfigError(f"smpp_port in {port_origin} must be a number") from None
        if not 0 < port < 65536:
            raise ConfigError(f"smpp_port in {port_origin} must be 1..65535")
    return Settings(
        credentials=credentials,
        base_url=_str(base_url, "base_url", origin) if base_url is not None else DEFAULT_BASE_URL,
        smpp_host=_str(smpp_host, "smpp_host", host_origin) if smpp_host is not None else None,
        smpp_port=port,
        smpp_tls=_bool(smpp_tls, "smpp_tls", tls_origin) if smpp_tls is not None else False,
        config_path=path,
        secrets=tuple(dict.fromkeys(seen_secrets)),
        warnings=tuple(warnings),
    )


def _readable_by_others(path: Path) -> bool:
    if os.name != "posix":
        return False  # Windows ACLs do not map to mode bits
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


def _credentials(
    layers: list[tuple[str, dict[str, object]]],
    pick: Any,
) -> Credentials | None:
    # The secret comes whole from the first layer that names one.
    for origin, layer in layers:
        given = [s for s in _SECRETS if s in layer]
        if not given:
            continue
        if len(given) > 1:
            names = " and ".join(given)
            raise ConfigError(f"{origin} gives {names}: give only one of them")
        kind = given[0]
        secret = _str(layer[kind], kind, origin)
        login_value, login_origin = pick("login")
        login = _str(login_value, "login", login_origin) if login_value is not None else None
        try:
            if kind == "api_key":
                return Credentials.from_api_key(secret)
            if login is None:
                raise ConfigError(f"{origin} gives a {kind.replace('_', ' ')} but no login is set")
            if kind == "password_md5":
                return Credentials.from_md5(login, secret)
            return Credentials(login, secret)
        except ValueError as error:
            # Credentials' messages name the problem, never the secret.
            raise ConfigError(f"credentials from {origin}: {error}") from None
    login_value, login_origin = pick("login")
    if login_value is not None:
        raise ConfigError(
            f"a login is set in {login_origin} but no password: pass --password, set "
            "SMSC_PASSWORD or put password in the config file"
        )
    return None


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first, so none leaks in part)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
