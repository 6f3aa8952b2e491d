"""A simulated run as OpenTelemetry spans (OTLP JSON, GenAI semantic conventions).

One trace per episode run (policy, replication, episode), one JSON object a line as the
collector's file exporter writes them: an `invoke_agent` span per turn, a `chat` span per
model request and an `execute_tool` span per tool attempt. Times start at EPOCH; runs
follow each other one second apart. Ids are hashes of the run and the span, so the same
run gives the same file. `rtsim traces import otel` reads it back (docs/importers.md).
"""

import hashlib
import json

import pandas as pd

from rtsim.engine.pieces import KEYS
from rtsim.traces.schema import Episode

EPOCH_NS = 1_767_225_600 * 10**9
"""2026-01-01 00:00 UTC: the time of the first run's start."""
GAP_NS = 10**9


def otlp_lines(events: pd.DataFrame, episodes: list[Episode], model: str) -> str:
    """The OTLP JSON Lines text of every episode run in `events` (rtsim run's event table)."""
    by_id = {e.id: e for e in episodes}
    lines, offset = [], EPOCH_NS
    for key, rows in events.groupby(list(KEYS), sort=False):
        run = dict(zip(KEYS, key, strict=True))
        spans = run_spans(rows, by_id[run["episode"]], run, offset, model)
        offset = max([offset] + [int(s["endTimeUnixNano"]) for s in spans]) + GAP_NS
        lines.append(json.dumps(_document(spans), separators=(",", ":")))
    return "".join(line + "\n" for line in lines)


def _document(spans: list[dict]) -> dict:
    resource = {"attributes": _attrs({"service.name": "rtsim"})}
    scope = {"name": "rtsim"}
    return {"resourceSpans": [{"resource": resource,
                               "scopeSpans": [{"scope": scope, "spans": spans}]}]}


def _id(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def run_spans(rows: pd.DataFrame, episode: Episode, run: dict, offset: int,
              model: str) -> list[dict]:
    """The spans of one episode run."""
    conv = f"{run['policy']}/r{run['replication']}/{episode.id}"
    trace = _id(conv, 16)
    rows = list(rows.itertuples(index=False))
    ns = {}

    def at(t: float) -> str:
        return str(offset + round(t * 1e9))

    def span(label: str, name: str, start: float, end: float, attrs: dict, parent=""):
        ns[label] = _id(f"{conv}/{label}", 8)
        out = {"traceId": trace, "spanId": ns[label], "name": name, "kind": 1,
               "startTimeUnixNano": at(start), "endTimeUnixNano": at(end),
               "attributes": _attrs(attrs)}
        if parent:
            out["parentSpanId"] = parent
        return out

    spans = []
    for k, turn in enumerate(episode.turns):
        mine = [r for r in rows if r.turn == k]
        if not mine:
            continue
        spans.append(span(f"turn{k}", "invoke_agent rtsim", mine[0].t, mine[-1].t, {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "rtsim",
            "gen_ai.conversation.id": conv, "rtsim.policy": run["policy"],
            "rtsim.replication": int(run["replication"]), "rtsim.turn": k,
            "gen_ai.input.messages": json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": turn.user}]}])}))
        parent = ns[f"turn{k}"]
        spans += _model_spans(mine, span, parent, model)
        spans += _tool_spans(mine, {c.id: c for c in turn.calls}, span, parent)
    return spans


def _model_spans(rows, span, parent: str, model: str) -> list[dict]:
    starts = {r.gen: r for r in rows if r.event == "gen_start"}
    first = {r.gen: r.t for r in rows if r.event == "first_token"}
    out = []
    for r in rows:
        if r.event not in ("gen_end", "gen_stop") or r.gen not in starts:
            continue
        begin = starts[r.gen]
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                 "gen_ai.usage.input_tokens": int(begin.tokens),
                 "gen_ai.usage.output_tokens": int(r.tokens), "rtsim.purpose": begin.label}
        if r.gen in first:
            attrs["gen_ai.response.time_to_first_chunk"] = first[r.gen] - begin.t
        if r.event == "gen_stop":
            attrs["error.type"] = "cancelled"
        out.append(span(f"gen{r.gen}", f"chat {model}", begin.t, r.t, attrs, parent))
    return out


def _tool_spans(rows, calls: dict, span, parent: str) -> list[dict]:
    starts = {(r.call, r.attempt): r for r in rows if r.event == "tool_start"}
    dropped = {(r.call, r.attempt) for r in rows if r.event in ("discard", "tool_cancel")}
    out = []
    for r in rows:
        key = (r.call, r.attempt)
        if r.event not in ("tool_end", "tool_cancel") or key not in starts:
            continue
        call = calls[r.call]
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name,
                 "gen_ai.tool.call.id": call.id,
                 "gen_ai.tool.call.arguments": json.dumps(call.arguments, ensure_ascii=False),
                 "rtsim.tool.output_tokens": call.output_tokens, "rtsim.tool.safe": call.safe,
                 "rtsim.tool.depends_on": list(call.depends_on),
                 "rtsim.tool.attempt": int(r.attempt)}
        if key in dropped:
            attrs["error.type"] = "cancelled"
        out.append(span(f"tool{r.call}#{r.attempt}", f"execute_tool {call.name}",
                        starts[key].t, r.t, attrs, parent))
    return out


def _attrs(values: dict) -> list[dict]:
    return [{"key": k, "value": _value(v)} for k, v in values.items()]


def _value(v) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}
