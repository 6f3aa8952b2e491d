"""The `rtsim` command line: a thin click layer over the library, one module per command.

`common` holds what the commands share (options declared once, user errors). The CLI is
the top room: it may import every other, and nothing imports it. A command's module is
imported only when the command runs (or help lists it), so `rtsim run` does not pay for
the plotting and real-model libraries other commands need.
"""

import importlib

import click

COMMANDS = {
    "calibrate": "calibrate:calibrate_command",
    "check": "check:check_command",
    "probe": "probe:probe_command",
    "report": "report:report_command",
    "run": "run:run_command",
    "scenarios": "scenarios:scenarios_group",
    "sweep": "sweep:sweep_command",
    "traces": "traces:traces_group",
    "validate": "validate:validate_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported from COMMANDS when first asked for."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"rtsim.cli.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rtsim", prog_name="rtsim")
def main():
    """rtsim: how much do async I/O and speculative tool calling speed up a voice agent?

    \b
    Start with:
      rtsim run                        # built-in scenario and traces, all four policies
      rtsim scenarios list             # what else is built in
      rtsim run -s edge-3b --set tools.default.latency=2.0 --seeds 20
    """
