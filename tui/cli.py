"""The ``nodefix`` command: one subcommand per module in ``tui.commands``.

Every command module defines ``HELP`` (one line for ``nodefix --help``),
``ORDER`` (its place in that list), ``add_arguments(parser)`` and
``run(args) -> int``. Modules import heavy libraries inside ``run`` so that
``nodefix --help`` stays instant, and only ``open`` imports Textual.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from tui import commands
from workspace.errors import InputError


def _command_modules() -> list:
    modules = [
        importlib.import_module(f"tui.commands.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: m.ORDER)


class _OneLineCommands(argparse.HelpFormatter):
    """Keeps each subcommand's help on its name's line: argparse undercounts the subcommands' indent."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max(len(name) for name in action.choices)
            self._action_max_length = max(self._action_max_length, longest + 2 * self._indent_increment + 2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nodefix",
        formatter_class=_OneLineCommands,
        description="A terminal workbench for annotating LLM-generated buggy code. "
        "With no command, opens the bundled demo.",
    )
    parser.add_argument("--version", action=_PrintVersion)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _command_modules():
        name = module.__name__.rsplit(".", 1)[1].replace("_", "-")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


class _PrintVersion(argparse.Action):
    """--version, looking the version up only when asked for: importlib.metadata takes a tenth of a second."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"nodefix {_version()}")
        parser.exit()


def _version() -> str:
    """The installed package's version, from its metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nodefix")
    except PackageNotFoundError:  # running from a source folder that was never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["open", *(argv or [])])
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"nodefix: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nodefix: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``nodefix rows | head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
