"""The simulation engine: random draws, the driver core both drivers share, the SimPy driver,
the shared batching server, the event log, per-turn metrics, and the runner.

May import: rtsim.errors, rtsim.files, rtsim.policies, rtsim.scenario, rtsim.traces.
"""
