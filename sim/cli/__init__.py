"""The `rtsim` command line: a thin click layer over the library, one module per command.

`common` holds what the commands share (options declared once, user errors). The CLI is
the top room: it may import every other, and nothing imports it.
"""

import click

from rtsim.cli.calibrate import calibrate_command
from rtsim.cli.check import check_command
from rtsim.cli.probe import probe_command
from rtsim.cli.report import report_command
from rtsim.cli.run import run_command
from rtsim.cli.scenarios import scenarios_group
from rtsim.cli.sweep import sweep_command
from rtsim.cli.traces import traces_group
from rtsim.cli.validate import validate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rtsim", prog_name="rtsim")
def main():
    """rtsim: how much do async I/O and speculative tool calling speed up a voice agent?

    \b
    Start with:
      rtsim run                        # built-in scenario and traces, all four policies
      rtsim scenarios list             # what else is built in
      rtsim run -s edge-3b --set tools.default.latency=2.0 --seeds 20
    """


for _command in (calibrate_command, check_command, probe_command, report_command, run_command,
                 scenarios_group, sweep_command, traces_group, validate_command):
    main.add_command(_command)
