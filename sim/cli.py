"""The `rtsim` command line: a thin click layer over the library."""

import click

from sim import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rtsim")
def main():
    """rtsim: how much do async I/O and speculative tool calling speed up a voice agent?"""
