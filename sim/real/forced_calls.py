"""Forced tool calls for the real driver: which requests write one call, its schema, and
whether the arguments the model wrote match the trace's.

A request that writes exactly one whole call (`StartGeneration.call` set, nothing of it
written before) can be run as its reasoning (free text of the trace's reasoning tokens)
followed by the call itself, forced with `tool_choice` and constrained by a JSON schema
built from the trace's arguments. The server's grammar then sets the call's length, so
its tokens may differ from the trace's. Requests that write several calls at once (a
sync step of parallel calls) or resume a cut call stay free text of the trace's length.
"""

from rtsim.engine.draws import EpisodeDraws
from rtsim.policies.base import CallPlan
from rtsim.policies.events import StartGeneration
from rtsim.traces.schema import Call

JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
              (list, "array"), (dict, "object"), (type(None), "null"))


def call_to_force(draws: EpisodeDraws, turn: int, spec: StartGeneration
                  ) -> tuple[CallPlan, Call] | None:
    """The call `spec` writes whole, with its trace entry; None if it is not one such."""
    if spec.purpose != "call" or not spec.call or spec.attempt:
        return None
    plan = next((c for c in draws.turns[turn].plan.calls if c.id == spec.call), None)
    if plan is None or spec.decode != plan.decode:
        return None
    return plan, next(c for c in draws.episode.turns[turn].calls if c.id == spec.call)


def _json_type(value) -> str:
    return next(name for kind, name in JSON_TYPES if isinstance(value, kind))


def tool_schema(call: Call) -> dict:
    """{name, parameters}: the call's name and a JSON schema of its arguments' types."""
    properties = {k: {"type": _json_type(v)} for k, v in call.arguments.items()}
    return {"name": call.name, "parameters": {"type": "object", "properties": properties,
                                              "required": list(call.arguments)}}


def arguments_verdict(written: dict | None, expected: dict) -> str:
    """`match` (equal, strings compared without case), `mismatch`, or `invalid` JSON."""
    if written is None:
        return "invalid"
    return "match" if _fold(written) == _fold(expected) else "mismatch"


def _fold(value):
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value
