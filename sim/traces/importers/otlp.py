"""OTLP JSON spans: the shape the OpenTelemetry collector's file exporter writes (one
`{"resourceSpans": [...]}` object a line) and `opentelemetry-exporter-otlp`'s JSON (one such
document), read into plain `Span` records; a span that cannot be read is skipped with its
location and reason.

Ids are hex strings; times are unix nanoseconds, as numbers or strings (protobuf JSON
writes 64-bit integers as strings). Attribute values are `{stringValue | intValue |
doubleValue | boolValue | arrayValue | kvlistValue | bytesValue}`.
"""

from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import json_lines, json_values

NANOS = 1e9
_HEX = frozenset("0123456789abcdefABCDEF")
_SCALARS = {"stringValue": str, "boolValue": bool, "doubleValue": (int, float)}


@dataclass(frozen=True, slots=True)
class Span:
    """One span: ids (hex), name, start and end (unix seconds), attributes, location."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    attrs: dict
    where: str

    @property
    def start(self) -> float:
        """Unix seconds."""
        return self.start_ns / NANOS

    @property
    def end(self) -> float:
        """Unix seconds."""
        return self.end_ns / NANOS

    @property
    def duration(self) -> float:
        """Seconds from start to end (exact to the nanosecond)."""
        return (self.end_ns - self.start_ns) / NANOS


@dataclass(frozen=True)
class Skip:
    """A record an import left out: where it is, a short reason (for counting), detail."""

    where: str
    reason: str
    detail: str = ""

    def line(self) -> str:
        """`WHERE: reason (detail)`."""
        return f"{self.where}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


def read_spans(path: str | Path) -> tuple[list[Span], list[Skip]]:
    """The spans of an OTLP JSON file, and the spans (or lines) skipped as unreadable.

    A file with no `resourceSpans` anywhere is an InputError: it is not OTLP JSON.
    """
    spans: list[Span] = []
    skipped: list[Skip] = []
    found = False
    for where, value in _values(path):
        if isinstance(value, InputError):
            skipped.append(Skip(where, "not JSON", str(value).split(": ", 1)[-1]))
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceSpans"), list):
            skipped.append(Skip(where, "not an OTLP object", "no resourceSpans list"))
            continue
        found = True
        _resource_spans(value["resourceSpans"], where, spans, skipped)
    if not found:
        raise InputError(f"{path}: not OTLP JSON: no object with a resourceSpans list")
    return spans, skipped


def _values(path) -> list:
    """The file's JSON document, or its lines (a line that is not JSON: its InputError)."""
    try:
        return json_values(path)
    except InputError as exc:
        if "not valid JSON" not in exc.template:
            raise
        return json_lines(path, keep_errors=True)


def _resource_spans(items: list, where: str, spans: list, skipped: list) -> None:
    for r, resource in enumerate(items):
        at = f"{where}: resourceSpans[{r}]"
        scopes = resource.get("scopeSpans") if isinstance(resource, dict) else None
        if scopes is None and isinstance(resource, dict):
            scopes = resource.get("instrumentationLibrarySpans")  # before OTLP 1.0
        if not isinstance(scopes, list):
            skipped.append(Skip(at, "malformed span", "no scopeSpans list"))
            continue
        for s, scope in enumerate(scopes):
            raw_spans = scope.get("spans") if isinstance(scope, dict) else None
            if not isinstance(raw_spans, list):
                skipped.append(Skip(f"{at}.scopeSpans[{s}]", "malformed span", "no spans list"))
                continue
            for k, raw in enumerate(raw_spans):
                span_at = f"{at}.scopeSpans[{s}].spans[{k}]"
                try:
                    spans.append(parse_span(raw, span_at))
                except InputError as exc:
                    skipped.append(Skip(span_at, "malformed span", str(exc)))


def parse_span(raw, where: str) -> Span:
    """One OTLP span object; InputError (the field and problem) when it cannot be read."""
    if not isinstance(raw, dict):
        raise InputError("must be an object")
    trace_id = _hex_id(raw, "traceId", 32)
    span_id = _hex_id(raw, "spanId", 16)
    parent = raw.get("parentSpanId") or ""
    parent_id = _hex_id(raw, "parentSpanId", 16) if parent else ""
    name = raw.get("name")
    if not isinstance(name, str):
        raise InputError("name: missing or not a string")
    start, end = _nanos(raw, "startTimeUnixNano"), _nanos(raw, "endTimeUnixNano")
    if end < start:
        raise InputError("endTimeUnixNano: before startTimeUnixNano")
    return Span(trace_id.lower(), span_id.lower(), parent_id.lower(), name, start, end,
                attributes(raw.get("attributes") or []), where)


def _hex_id(raw: dict, key: str, digits: int) -> str:
    value = raw.get(key)
    if not (isinstance(value, str) and len(value) == digits and set(value) <= _HEX):
        raise InputError(f"{key}: must be {digits} hex digits, got {value!r}")
    return value


def _nanos(raw: dict, key: str) -> int:
    value = raw.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{key}: must be unix nanoseconds, got {value!r}")
    return value


def attributes(items) -> dict:
    """`[{key, value}]` as a dict; entries that are not key-value pairs are dropped."""
    if not isinstance(items, list):
        raise InputError("attributes: must be a list")
    out = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = any_value(item.get("value"))
    return out


def any_value(value):
    """An OTLP AnyValue as a Python value (None when it has none of the known fields)."""
    if not isinstance(value, dict):
        return None
    for key, kind in _SCALARS.items():
        if isinstance(value.get(key), kind):
            return value[key]
    if "intValue" in value:
        number = value["intValue"]
        if isinstance(number, str) and number.lstrip("-").isdigit() and number.isascii():
            return int(number)
        return number if isinstance(number, int) and not isinstance(number, bool) else None
    if isinstance(value.get("arrayValue"), dict):
        items = value["arrayValue"].get("values")
        return [any_value(v) for v in items] if isinstance(items, list) else []
    if isinstance(value.get("kvlistValue"), dict):
        return attributes(value["kvlistValue"].get("values") or [])
    return None
