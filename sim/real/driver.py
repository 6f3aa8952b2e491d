"""The real driver: the same turns, tools and policies as the simulator, with a real model.

User speech, transcripts, endpointing, tools and speech output are emulated in real time
from the episode's draws (the same draws the simulator uses, so both see the same words at
the same moments and the same tool latencies). Every StartGeneration becomes a streamed
request to a real model server, one at a time in arrival order (the simulator's model
lane); a CancelGeneration closes the stream. Every timestamp comes from the event loop's
monotonic clock, relative to the episode's start.
"""

import asyncio

from rtsim.engine.draws import EpisodeDraws
from rtsim.engine.driver import EpisodeDriver
from rtsim.engine.eventlog import EventLog, EventRow
from rtsim.policies.events import CallWritten, GenerationFinished, StartGeneration
from rtsim.real.conversation import Conversation
from rtsim.real.forced_calls import arguments_verdict, call_to_force, tool_schema
from rtsim.scenario.schema import Scenario


class RealRequest:
    """A model request: its action, the tokens streamed so far, their text, its task, and
    whether it was asked before the commit point and its call judged right (None: not)."""

    __slots__ = ("spec", "turn", "tokens", "text", "task", "early", "verdict")

    def __init__(self, spec: StartGeneration, turn: int, early: bool):
        self.spec, self.turn, self.early = spec, turn, early
        self.tokens, self.text, self.task, self.verdict = 0, [], None, None


class EpisodeFailed(Exception):
    """The episode could not finish: the backend failed or the episode ran too long."""


class RealEpisode(EpisodeDriver):
    """Plays one episode under one policy class against `backend` (rtsim.real.backend.Backend)."""

    def __init__(self, draws: EpisodeDraws, policy_cls, scenario: Scenario, log: EventLog,
                 backend, conversation: Conversation, forced_calls: bool = False,
                 references: dict | None = None):
        super().__init__(draws, policy_cls, scenario, log)
        self.backend, self.chat = backend, conversation
        self.forced_calls = forced_calls
        self.references = references
        self.loop = self.t0 = None
        self.done: asyncio.Future | None = None

    async def run(self, timeout: float) -> list[EventRow]:
        """Play the episode; return its event rows. Raises EpisodeFailed."""
        self.loop = asyncio.get_running_loop()
        self.done = self.loop.create_future()
        self.t0 = self.loop.time()
        self._safely(self.start)
        try:
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        except asyncio.TimeoutError:
            raise EpisodeFailed(f"episode did not finish within {timeout:.0f} s") from None
        finally:
            self._abandon()
        return self.rec.rows

    def now(self) -> float:
        return self.loop.time() - self.t0

    def _at(self, delay: float, fn, *args) -> None:
        self.loop.call_later(max(0.0, delay), self._safely, fn, *args)

    def _safely(self, fn, *args) -> None:
        if self.done.done():
            return
        try:
            fn(*args)
        except Exception as exc:  # a failure in a callback ends the episode, reported
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(EpisodeFailed(str(exc) or exc.__class__.__name__))

    def _episode_done(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def _abandon(self) -> None:
        """Cancel the running request at the end (normal end or failure)."""
        if self.active is not None and self.active.task is not None:
            self.active.task.cancel()
        self.active = None
        self.queue.clear()

    # ---- what the model hears -------------------------------------------------------

    def _begin_turn(self, i: int) -> None:
        turn = self.draws.episode.turns[i]
        self.chat.begin_turn(turn.words, turn.word_tokens)
        super()._begin_turn(i)

    def _hear(self, i: int, words: int) -> None:
        if i == self.turn:
            self.chat.hear(words)
        super()._hear(i, words)

    def _endpoint(self, i: int, words: int, false: bool) -> None:
        self.chat.hear(words)
        super()._endpoint(i, words, false)

    # ---- the model lane -----------------------------------------------------------------

    def _on_start(self, a: StartGeneration) -> None:
        self.queue.append(RealRequest(a, self.turn, self.commit_at is None))
        if self.active is None:
            self._run_next()

    def _run_next(self) -> None:
        req = self.active = self.queue.popleft()
        spec = req.spec
        self.chat.read(spec.prefill)
        self.rec.add(self.now(), req.turn, "gen_start", gen=spec.gen, call=spec.call or "",
                     attempt=spec.attempt, tokens=spec.prefill, label=spec.purpose)
        req.task = self.loop.create_task(self._stream(req, self.chat.prompt()))

    async def _stream(self, req: RealRequest, messages: list[dict]) -> None:
        spec = req.spec
        forced = call_to_force(self.draws, req.turn, spec) if self.forced_calls else None
        try:
            if forced is None:
                await self._read(req, messages, max(1, spec.decode), bool(spec.decode))
            else:
                await self._forced(req, messages, *forced)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # BackendError, or a bug: the episode fails, reported
            self._fail(exc)
            return
        if req is self.active:
            self._safely(self._finish, req)

    async def _read(self, req: RealRequest, messages, max_tokens: int, exact: bool,
                    tool: dict | None = None):
        """Stream one reply into `req`; its StreamResult, or None once `req` is cut."""
        async with self.backend.stream(messages, max_tokens, exact=exact, tool=tool) as s:
            async for chunk in s:
                if req is not self.active:
                    return None
                if req.spec.decode:
                    self._took(req, chunk)
        r = s.result
        self.rec.add(self.now(), req.turn, "gen_reply", gen=req.spec.gen, call=req.spec.call or "",
                     attempt=req.spec.attempt, tokens=r.prompt_tokens or 0,
                     seconds=r.ttft or 0.0, label=req.spec.purpose)
        return r

    async def _forced(self, req: RealRequest, messages, plan, call) -> None:
        """The call's reasoning as free text, then the call forced to its schema."""
        if plan.reasoning_tokens:
            if await self._read(req, messages, plan.reasoning_tokens, True) is None:
                return
            messages = messages + [{"role": "assistant", "content": "".join(req.text)}]
        result = await self._read(req, messages, plan.tokens, False, tool_schema(call))
        if result is not None and req is self.active:
            self.rec.add(self.now(), req.turn, "call_args", gen=req.spec.gen, call=call.id,
                         tokens=int(result.tokens),
                         label=arguments_verdict(result.arguments(), call.arguments))
            self._judge(req, call, result.arguments())

    def _judge(self, req: RealRequest, call, written: dict | None) -> None:
        """With references (the model's calls on complete utterances), judge a call written
        before the commit point (a guess) and record the verdict."""
        reference = (self.references or {}).get((req.turn, call.id))
        if reference is None or not req.early:
            return
        req.verdict = arguments_verdict(written, reference) == "match"
        self.rec.add(self.now(), req.turn, "call_guess", gen=req.spec.gen, call=call.id,
                     attempt=req.spec.attempt, label="right" if req.verdict else "wrong")

    def _took(self, req: RealRequest, chunk) -> None:
        spec = req.spec
        req.tokens = min(spec.decode, req.tokens + chunk.tokens)
        req.text.append(chunk.text)
        if spec.purpose == "answer" and self.first_token is None and req.tokens > spec.answer_from:
            self._first_token_at(self.now(), req.turn, spec.gen)

    def _finish(self, req: RealRequest) -> None:
        self._close(req, "gen_end")
        self._deliver(GenerationFinished(req.spec.gen))
        if req.verdict is not None:
            self._deliver(CallWritten(req.spec.call, req.spec.attempt, req.verdict))

    def _stop_active(self, req: RealRequest) -> int:
        req.task.cancel()
        self._close(req, "gen_stop")
        return req.tokens if req.spec.decode else 0

    def _close(self, req: RealRequest, event: str) -> None:
        """End the running request; append what it wrote; start the next queued one."""
        spec = req.spec
        tokens = req.tokens if spec.decode else 0
        if tokens:
            self.chat.wrote("".join(req.text))
        self.rec.add(self.now(), req.turn, event, gen=spec.gen, call=spec.call or "",
                     attempt=spec.attempt, tokens=tokens, label=spec.purpose)
        self.active = None
        if self.queue:
            self._run_next()


def new_conversation(episode, scenario: Scenario) -> Conversation:
    """The chat an episode starts from: its system prompt (the scenario's size unless the
    episode gives one)."""
    system = episode.system_tokens
    return Conversation(scenario.model.system_tokens if system is None else system)


async def play_episode(draws: EpisodeDraws, policy_cls, scenario: Scenario, backend,
                       timeout: float, forced_calls: bool = False,
                       references: dict | None = None, warm: bool = True) -> list[EventRow]:
    """Warm the server with the system prompt (unless `warm` is false: it holds it
    already), then play one episode; its event rows. `references` ({(turn, call id):
    arguments}) judge the forced calls' guesses."""
    chat = new_conversation(draws.episode, scenario)
    if warm:
        try:
            await backend.prefill(chat.prompt())
        except Exception as exc:  # BackendError: the server cannot even read the system prompt
            raise EpisodeFailed(f"warming the server: {exc}") from None
    episode = RealEpisode(draws, policy_cls, scenario, EventLog(), backend, chat, forced_calls,
                          references)
    return await episode.run(timeout)
