"""Where credentials come from, and that no secret is ever printed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from smscenter.cli.settings import ConfigError, resolve_settings, scrub
from tests.cli.conftest import SECRET, SimThread

# No variables, and a config directory that does not exist (never a real user file).
NO_ENV: dict[str, str] = {"XDG_CONFIG_HOME": "/nonexistent/smscenter-tests"}


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'login = "file-login"\npassword = "file-pw"\nbase_url = "https://smscentre.com"\n'
        "smpp_port = 3443\nsmpp_tls = true\n",
    )
    only_file = resolve_settings({}, NO_ENV, config_path=path)
    assert only_file.credentials is not None
    assert (only_file.credentials.login, only_file.credentials.password) == (
        "file-login",
        "file-pw",
    )
    assert only_file.smpp_address() == ("smpp.smscentre.com", 3443) and only_file.smpp_tls

    env = {"SMSC_LOGIN": "env-login", "SMSC_PASSWORD": "env-pw", "SMSC_SMPP_HOST": "h"}
    with_env = resolve_settings({}, env, config_path=path)
    assert (
        with_env.credentials
        == resolve_settings({"login": "env-login", "password": "env-pw"}, NO_ENV).credentials
    )
    assert with_env.smpp_address() == ("h", 3443)
    assert with_env.base_url == "https://smscentre.com"

    flags = {"login": "flag-login", "password": None, "base_url": "http://127.0.0.1:9"}
    with_flags = resolve_settings(flags, env, config_path=path)
    assert with_flags.credentials is not None and with_flags.credentials.login == "flag-login"
    assert with_flags.credentials.password == "env-pw"  # the secret of the first layer naming one
    assert with_flags.base_url == "http://127.0.0.1:9"
    # Every secret seen anywhere is scrubbed, used or not.
    assert set(with_flags.secrets) == {"env-pw", "file-pw"}


def test_a_key_in_one_layer_is_not_mixed_with_a_password_from_another(tmp_path: Path) -> None:
    path = _file(tmp_path, 'login = "acme"\npassword = "pw"\n')
    settings = resolve_settings({}, {"SMSC_API_KEY": "k-1"}, config_path=path)
    assert settings.credentials is not None and settings.credentials.auth == "api_key"


def test_default_file_location_and_smscenter_table(tmp_path: Path) -> None:
    config = tmp_path / "smscenter" / "config.toml"
    config.parent.mkdir()
    config.write_text('[smscenter]\nlogin = "acme"\npassword_md5 = "' + "a" * 32 + '"\n')
    settings = resolve_settings({}, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert settings.credentials is not None and settings.credentials.auth == "md5"
    assert settings.config_path == config
    # No file at the default place is fine; a named file must exist.
    assert resolve_settings({}, {"XDG_CONFIG_HOME": str(tmp_path / "none")}).credentials is None
    with pytest.raises(ConfigError, match="not found"):
        resolve_settings({}, NO_ENV, config_path=tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("flags", "env", "file", "message"),
    [
        ({"password": "x", "api_key": "y"}, {}, "", "give only one"),
        ({"password": "x"}, {}, "", "no login"),
        ({"login": "acme"}, {}, "", "no password"),
        ({}, {}, "login = 'a'\nunknown_key = 1\n", "unknown keys"),
        ({}, {}, "login = [", "not valid TOML"),
        ({}, {"SMSC_SMPP_PORT": "x"}, "", "must be a number"),
        ({}, {}, "smpp_tls = 'maybe'\n", "true or false"),
        ({"login": "логин", "password": "x"}, {}, "", "Latin"),
    ],
)
def test_bad_settings_are_named(
    tmp_path: Path, flags: dict[str, object], env: dict[str, str], file: str, message: str
) -> None:
    path = _file(tmp_path, file)
    with pytest.raises(ConfigError, match=message):
        resolve_settings(flags, env, config_path=path)


def test_scrub_replaces_longest_first() -> None:
    assert scrub("pw pw123 x", ["pw", "pw123"]) == "*** *** x"
    assert scrub("nothing", ["", "zz"]) == "nothing"


def test_config_file_credentials_reach_the_provider(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    path = _file(
        tmp_path, f'login = "demo"\npassword = "{SECRET}"\nbase_url = "{sim_thread.sim.base_url}"\n'
    )
    result = run("--config", str(path), "balance", "--json", env={})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output


def _never_echoed(result: Result) -> None:
    assert SECRET not in result.output
    assert SECRET not in (result.stderr or "")


def test_secrets_never_echoed_in_output_errors_or_verbose_logs(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    base = sim_thread.sim.base_url
    flags = ("-vv", "--login", "demo", "--password", SECRET, "--base-url", base)
    smpp = ("--smpp-host", sim_thread.sim.smpp_host, "--smpp-port", str(sim_thread.sim.smpp_port))
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("79990000001\n79990000002\n")
    for args in (
        ("send", "79991234567", "hi", "--json"),
        ("cost", "79991234567", "hi"),
        ("balance",),
        ("status", "1", "79991234567"),  # not found: an error line
        ("listen", "--via", "http", "--for", "0.2", "--interval", "0.05"),
        ("listen", "--for", "0.2"),
        ("bulk", str(numbers), "--text", "hi", "--out", str(tmp_path / "a.csv")),
        # A store of its own: the first bulk's (beside numbers.csv) has these rows sent already.
        (
            "bulk",
            str(numbers),
            "--text",
            "hi",
            "--via",
            "http",
            "--out",
            str(tmp_path / "b.csv"),
            "--store",
            str(tmp_path / "b.smsc.db"),
        ),
    ):
        result = run(*flags, *smpp, *args, env={})
        _never_echoed(result)
        assert " smscenter." in result.stderr  # the verbose log really ran
    # Wrong password (the secret of this run is the wrong one), over HTTP and SMPP.
    wrong = "Wr0ngPw!"
    for args in (("balance",), ("listen", "--for", "2")):
        result = run(
            "-vv", "--login", "demo", "--password", wrong, "--base-url", base,
            "--smpp-host", sim_thread.sim.smpp_host, "--smpp-port",
            str(sim_thread.sim.smpp_port), *args, env={},
        )  # fmt: skip
        assert result.exit_code == 1 and "AuthenticationError" in result.stderr
        assert wrong not in result.output
    # A secret that ends up in an error message is scrubbed: here inside a malformed base URL.
    bad_url = run("--api-key", SECRET, "--base-url", f"ftp://{SECRET}.example", "balance", env={})
    assert bad_url.exit_code == 1 and "***" in bad_url.stderr
    _never_echoed(bad_url)
    # From the environment and the config file too.
    env_run = run("-vv", "balance", env=sim_thread.env)
    _never_echoed(env_run)
    path = _file(tmp_path, f'login = "demo"\npassword = "{SECRET}"\nbase_url = "{base}"\n')
    file_run = run("-vv", "--config", str(path), "send", "79991234567", "x", env={})
    assert file_run.exit_code == 0
    _never_echoed(file_run)


def test_missing_cli_extra_prints_the_install_hint() -> None:
    code = (
        "import sys; sys.modules['click'] = None; sys.modules['rich'] = None\n"
        "from smscenter.__main__ import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "balance"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert "pip install 'smscenter[cli]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_python_dash_m_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smscenter", "--help"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    for command in ("send", "cost", "status", "balance", "bulk", "listen", "simulate", "demo"):
        assert command in done.stdout


@pytest.mark.parametrize("command", ["demo", "simulate"])
def test_missing_testing_extra_prints_its_install_hint(command: str) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None\nfrom smscenter.__main__ import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, command], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert "pip install 'smscenter[cli,testing]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_config_file_with_a_secret_readable_by_others_is_flagged(tmp_path: Path) -> None:
    path = _file(tmp_path, 'login = "acme"\npassword = "pw"\n')
    path.chmod(0o644)
    (warning,) = resolve_settings({}, NO_ENV, config_path=path).warnings
    assert "chmod 600" in warning and "pw" not in warning.replace(str(path), "")
    path.chmod(0o600)
    assert resolve_settings({}, NO_ENV, config_path=path).warnings == ()
    no_secret = _file(tmp_path, 'base_url = "https://smsc.kz"\n')
    no_secret.chmod(0o644)
    assert resolve_settings({}, NO_ENV, config_path=no_secret).warnings == ()


def test_a_login_without_a_secret_asks_for_the_password_when_it_can(tmp_path: Path) -> None:
    no_env = {"XDG_CONFIG_HOME": str(tmp_path)}  # no config file either
    asked: list[str] = []

    def ask(login: str) -> str:
        asked.append(login)
        return "typed-pw"

    settings = resolve_settings({"login": "acme"}, no_env, ask_password=ask)
    assert asked == ["acme"]
    assert settings.credentials is not None and settings.credentials.password == "typed-pw"
    assert "typed-pw" in settings.secrets  # scrubbed like any other secret
    # Not asked when a secret is set somewhere, nor without a login.
    resolve_settings({"login": "acme"}, {**no_env, "SMSC_PASSWORD": "x"}, ask_password=ask)
    assert resolve_settings({}, no_env, ask_password=ask).credentials is None
    assert asked == ["acme"]
