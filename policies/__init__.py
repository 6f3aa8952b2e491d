"""Agent policies: pure event-to-actions code shared by the simulated and the real driver."""

from policies.asynchronous import AsyncPolicy
from policies.speculative import SpeculativePolicy
from policies.sync import SyncPolicy

POLICIES = {p.name: p for p in (SyncPolicy, AsyncPolicy, SpeculativePolicy)}
