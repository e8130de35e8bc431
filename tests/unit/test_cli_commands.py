"""`antrian` imports only the module of the command it runs: its table of commands must say the truth."""

from __future__ import annotations

import argparse

from broker.cli.main import COMMANDS, CORE_COMMANDS, EXTENSIONS, build_parser, extensions_for


def registered(module_name: str) -> set[str]:
    """The top-level commands a module adds when asked to register."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    __import__(module_name, fromlist=["register"]).register(sub)
    return set(sub.choices)


def test_each_command_is_registered_by_the_module_the_table_names():
    by_module: dict[str, set[str]] = {}
    for command, module in COMMANDS.items():
        by_module.setdefault(module, set()).add(command)
    assert {module: registered(module) for module in EXTENSIONS} == by_module


def test_the_core_commands_are_the_ones_the_parser_adds_itself():
    sub = next(a for a in build_parser(()).__dict__["_actions"] if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(CORE_COMMANDS)


def test_a_command_line_imports_its_own_module_or_all_for_help():
    assert extensions_for(["report", "visitors", "--data", "x"]) == ("broker.cli.report",)
    assert extensions_for(["--version"]) == EXTENSIONS == extensions_for([])
    assert extensions_for(["serve", "--ignore-hours"]) == ()
    assert extensions_for(["nonsense"]) == EXTENSIONS  # argparse then lists every command it knows
