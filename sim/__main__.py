"""`python -m rtsim` runs the rtsim command line."""

from rtsim.cli import main

main(prog_name="rtsim")
