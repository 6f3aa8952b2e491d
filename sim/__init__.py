"""rtsim: latency simulator for real-time tool-calling agents."""

__version__ = "0.1.0"
