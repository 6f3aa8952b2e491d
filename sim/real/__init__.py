"""Real runs: backends (streaming client, embedded server), calibration and profiles, the
asyncio driver, measured episodes, and `rtsim check`.

May import: the rooms below it (errors, files, policies, scenario, traces, engine, analysis).
"""
