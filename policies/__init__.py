"""Agent policies: pure event-to-actions code shared by the simulated and the real driver.

`events` is the vocabulary between drivers and policies. This package imports nothing of
rtsim outside itself, and nothing of simpy, asyncio or time.
"""

from rtsim.policies.asynchronous import AsyncPolicy
from rtsim.policies.preemptive import PreemptivePolicy
from rtsim.policies.speculative import SpeculativePolicy
from rtsim.policies.sync import SyncPolicy

POLICIES = {p.name: p for p in (SyncPolicy, PreemptivePolicy, AsyncPolicy, SpeculativePolicy)}
