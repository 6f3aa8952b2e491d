"""`rtsim probe` as a library call: ask a model for each sampled call at every partial
transcript, on the complete utterance and at the commit point; keep every answer.

Each request is a forced call (the call's tool, its schema inferred from the trace's
arguments as `rtsim check --calls forced` does). Answers are cached in the output folder
(`requests.json`, keyed by the model, the chat and the tool), so a rerun sends only the
requests not yet answered. A request the backend fails fails its call, reported with
the reason; the other calls are kept. A reply that is not a JSON object of arguments is
an answer: an invalid guess (wrong), counted.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_json
from rtsim.real.backend.errors import BackendError
from rtsim.real.probe_plan import ProbedCall

MIN_CALL_TOKENS = 32


@dataclass
class CallAnswers:
    """What the model wrote for one probed call (None where a reply was not valid)."""

    probed: ProbedCall
    guesses: list[dict | None]
    reference: dict | None
    commits: list[dict | None]
    error: str | None = None


class RequestCache:
    """Answers by request, in `path` (JSON), written atomically after each call."""

    def __init__(self, path: Path):
        self.path = path
        self.answers: dict[str, dict] = {}
        if path.is_file():
            data = read_json(path)
            if not isinstance(data, dict):
                raise InputError(f"{path}: not a request cache (delete it to probe again)")
            self.answers = data
        self.sent = self.reused = 0

    @staticmethod
    def key(model: str, messages: list[dict], tool: dict) -> str:
        text = json.dumps([model, messages, tool], sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.answers, sort_keys=True, indent=0) + "\n")


def requests_of(call: ProbedCall) -> int:
    """How many requests probing `call` takes at most."""
    return 2 * len(call.partials) + 1


async def probe_calls(backend, calls: list[ProbedCall], cache: RequestCache,
                      on_request: Callable[[int], None] = lambda n: None
                      ) -> list[CallAnswers]:
    """Probe each call in turn; the cache is saved after each."""
    out = []
    for call in calls:
        answers = await _probe_call(backend, call, cache, on_request)
        cache.save()
        out.append(answers)
    return out


async def reference_calls(backend, calls: list[ProbedCall], cache: RequestCache) -> dict:
    """{call key: the model's call on the complete utterance} (None where not valid);
    BackendError if a request fails. The cache is saved at the end."""
    try:
        return {c.key: await _ask(backend, c, c.heard(len(c.words)), cache) for c in calls}
    finally:
        cache.save()


async def _ask(backend, call: ProbedCall, messages: list[dict], cache: RequestCache
               ) -> dict | None:
    """The arguments the model writes for `call` after `messages`, from the cache if there."""
    key = RequestCache.key(backend.model, messages, call.tool)
    if key in cache.answers:
        cache.reused += 1
    else:
        result = await backend.generate(messages, max(MIN_CALL_TOKENS, 2 * call.call.tokens),
                                        tool=call.tool, exact=False)
        cache.answers[key] = {"arguments": result.arguments()}
        cache.sent += 1
    answer = cache.answers[key]
    written = answer.get("arguments") if isinstance(answer, dict) else None
    return written if isinstance(written, dict) else None


async def _probe_call(backend, call: ProbedCall, cache: RequestCache, on_request
                      ) -> CallAnswers:
    answers = CallAnswers(call, [], None, [])

    async def ask(messages: list[dict]) -> dict | None:
        written = await _ask(backend, call, messages, cache)
        on_request(1)
        return written

    try:
        answers.reference = await ask(call.heard(len(call.words)))
        for words in call.partials:
            answers.guesses.append(await ask(call.heard(words)))
        for words, guess in zip(call.partials, answers.guesses, strict=True):
            if guess is None:
                answers.commits.append(None)
                on_request(1)
            else:
                answers.commits.append(await ask(call.commit(words, guess)))
    except BackendError as exc:
        answers.error = str(exc)
    return answers
