"""docs/cli.md stays true: every command line in it parses, every option is documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from smscenter.cli import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _command_lines() -> list[str]:
    lines = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\$ (?:.*\| )?smscenter (.*)", line)
        if match:
            args = re.split(r"\s[|>]\s|\s+#", match.group(1))[0]
            lines.append(args)
    return lines


def test_the_doc_shows_every_command() -> None:
    shown = {shlex.split(line)[0] for line in _command_lines() if not line.startswith("-")}
    assert shown == set(cli.commands)


@pytest.mark.parametrize("line", _command_lines())
def test_every_command_line_in_the_doc_parses(
    line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("clients.csv", "numbers.txt"):
        (tmp_path / name).write_text("phone\n79990000001\n")
    args = shlex.split(line)
    at = next(i for i, arg in enumerate(args) if arg in cli.commands)
    ctx = click.Context(cli, info_name="smscenter")
    # The group's own options, parsed as a plain command's (no subcommand dispatch).
    if at:
        click.Command.parse_args(cli, ctx, args[:at])
    command = cli.commands[args[at]]
    with command.make_context(args[at], args[at + 1 :], parent=ctx) as sub:
        assert sub.command is command


def test_every_option_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = []
    for command in [cli, *cli.commands.values()]:
        for param in command.params:
            documented = any(opt in text for opt in param.opts if opt.startswith("--"))
            if isinstance(param, click.Option) and param.name != "help" and not documented:
                missing.append(f"{command.name}: {param.opts}")
    assert missing == []


@pytest.mark.parametrize(
    "module_name",
    ["smscenter.cli", "smscenter.cli.app", "smscenter.cli.bulk", "smscenter.cli.settings",
     "smscenter.cli.bulk_files", "smscenter.cli.bulk_senders", "smscenter.cli.bulk_store",
     "smscenter.cli.track", "smscenter.cli.report_cmd",
     "smscenter.cli.demo", "smscenter.cli._common", "smscenter.cli.send_cmd",
     "smscenter.cli.bulk_cmd", "smscenter.cli.bulk_run", "smscenter.cli.listen_cmd",
     "smscenter.cli.simulate_cmd", "smscenter.cli.fleet_cmd", "smscenter.__main__"],
)  # fmt: skip
def test_all_lists_every_public_class_and_function(module_name: str) -> None:
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    assert isinstance(module.__all__, tuple)
    defined = {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module.__name__
    }
    assert defined <= set(module.__all__), defined - set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
