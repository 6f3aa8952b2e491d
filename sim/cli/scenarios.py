"""`rtsim scenarios`: list and print the built-in scenarios."""


import click

from rtsim.cli.common import user_errors
from rtsim.files.inputs import read_text
from rtsim.scenario.load import builtin_scenarios, dotted_lines, load_scenario, read_scenario_yaml
from rtsim.scenario.schema import parse_scenario


@click.group("scenarios")
def scenarios_group():
    """List and print the built-in scenarios."""


@scenarios_group.command("list")
def scenarios_list():
    """Built-in scenario names and descriptions."""
    for name in sorted(builtin_scenarios()):
        with user_errors():
            click.echo(f"{name:<16} {load_scenario(name).description}")


@scenarios_group.command("show")
@click.argument("name")
@click.option("--resolved", is_flag=True,
              help="Print every value, defaults included, as `dotted.key: value` lines (the "
                   "keys of --set and sweep grids).")
def scenarios_show(name, resolved):
    """Print a scenario's YAML (with its source comments), or its resolved values.

    NAME is a built-in scenario or a YAML file."""
    with user_errors():
        if resolved:
            click.echo("\n".join(dotted_lines(load_scenario(name))))
        else:
            raw, path = read_scenario_yaml(name)
            parse_scenario(raw, path)  # print only what is a scenario, never any other file
            click.echo(read_text(path), nl=False)
