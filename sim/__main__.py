"""`python -m sim` runs the rtsim command line."""

from sim.cli import main

main(prog_name="rtsim")
