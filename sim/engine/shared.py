"""Many conversations on one model server: closed populations and open arrivals.

Each conversation is the single-user simulator (rtsim.engine.simpy_driver) whose model
requests go to a shared BatchServer (rtsim.engine.batch_server) instead of a private one.
A closed population of `server.sessions` conversations starts spread evenly over
`server.startup` seconds; each plays the next episode of the work list as soon as its last
one ends. Open arrivals come as a Poisson process of `server.arrival_rate` per second, one
episode each. The work list is the trace set, cycled to `server.episodes` entries; the
k-th entry has the random draws of episode index k, so the first pass draws exactly what
the single-user runs draw. Event rows are returned relative to each episode's start, as
single-user runs write them. The server's running totals are sampled as each episode starts
and ends (LoadSeries), for the steady-state figures of rtsim.analysis.steady_load.
"""

from dataclasses import dataclass, field

import numpy as np
import simpy

from rtsim.engine.batch_server import BatchServer, Job, scheduler
from rtsim.engine.draws import realize
from rtsim.engine.eventlog import EventLog, EventRow
from rtsim.engine.seeds import ARRIVALS, branch_stream
from rtsim.engine.simpy_driver import EpisodeSim, Request
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

_new = tuple.__new__  # an EventRow moved in time without _replace's keyword handling


class SharedEpisodeSim(EpisodeSim):
    """A conversation whose model requests run on a shared server. Its running request holds
    the server's job, and the job reports back through a bound method: no closure keeps a
    finished conversation alive in a reference cycle."""

    def __init__(self, env, draws, policy_cls, scenario, log, server: BatchServer,
                 on_end, requests: list | None = None):
        super().__init__(env, draws, policy_cls, scenario, log)
        self.server, self.on_end, self.requests = server, on_end, requests

    def _launch(self, req: Request) -> None:
        spec = req.spec
        mark = spec.answer_from + 1 if spec.purpose == "answer" else None
        on_server = self._on_server(req)
        req.job = Job(req.prefill_s + on_server, spec.decode, req.per_token, self._job_done,
                      mark)
        if req.overhead > on_server:
            self._at(req.overhead - on_server, self._send, req)
        else:
            self._send(req)

    def _on_server(self, req: Request) -> float:
        """The part of the request's overhead the server spends (`overhead_on_server`)."""
        share = self.scenario.server.overhead_on_server
        if not (share and req.overhead):
            return 0.0
        return share * min(req.overhead, self.draws.turns[req.turn].request_overhead)

    def _send(self, req: Request) -> None:
        if self.active is req and req.job.state == "new":
            self.server.submit(req.job)

    def _job_done(self, job: Job) -> None:
        """The server finished a job: only the running request's job can finish."""
        self._finish(self.active)

    def _stop(self, req: Request) -> int:
        job = req.job
        if job.state == "new":
            job.state = "gone"
            return 0
        return self.server.cancel(job)

    def _close(self, req: Request, tokens: int, event: str, now: float) -> None:
        if self.requests is not None:
            self.requests.append(served(req, tokens, now))
        super()._close(req, tokens, event, now)

    def _first_token_time(self, req: Request) -> float:
        job = req.job
        return self.env.now if job.mark_time is None else job.mark_time

    def _episode_done(self) -> None:
        self.on_end(self)


def served(req: Request, tokens: int, end: float) -> tuple:
    """(kind, sent, first, end, tokens) of a request as a client would time it: "read" (a
    prompt read, nothing written) or "write"; sent when it began (before its overhead),
    first when the server had read its prompt (None: it never got that far)."""
    return ("write" if req.spec.decode else "read", req.begin, req.job.read_at, end, tokens)


@dataclass
class LoadSeries:
    """The server over a run: at each `times` entry (episode starts and ends) its running
    `totals` (BatchServer.totals); each work-list entry's start time (`starts`, in order);
    `drain`: when the last one started (the drain follows: no new work comes); the turns'
    latencies and when each turn ended (`turn_ends`), filled in by the caller."""

    times: list[float] = field(default_factory=list)
    totals: list[tuple[float, float, float, float]] = field(default_factory=list)
    starts: dict[int, float] = field(default_factory=dict)
    drain: float = 0.0
    turn_ends: list[float] = field(default_factory=list)
    turn_latencies: list[float] = field(default_factory=list)

    def sample(self, server: BatchServer) -> None:
        self.times.append(server.env.now)
        self.totals.append(server.totals())


def work_list(scenario: Scenario, episodes: list[Episode]) -> list[tuple[int, str, Episode]]:
    """(draw index, unit id, episode) of every episode played under load, in order."""
    n = scenario.server.episodes or len(episodes)
    out = []
    for k in range(n):
        episode = episodes[k % len(episodes)]
        unit = episode.id if k < len(episodes) else f"{episode.id}~{k // len(episodes) + 1}"
        out.append((k, unit, episode))
    return out


def _keep(unit: str, rows: list) -> tuple[str, list]:
    return unit, rows


def simulate_shared(scenario: Scenario, episodes: list[Episode], policy_cls,
                    replication: int, digest=_keep, requests: list | None = None
                    ) -> tuple[list, dict]:
    """Play the work list on one shared server; `digest(unit id, rows)` of each episode as
    it ends (default: the pair itself), in work-list order, and the server's stats (with
    its LoadSeries under `series`). A `requests` list gets every model request (`served`)
    as it ends."""
    env = simpy.Environment()
    srv = scenario.server
    server = BatchServer(env, srv.max_batch, srv.batch_slowdown, scheduler(srv),
                         srv.batch_steps)
    work = work_list(scenario, episodes)
    todo = iter(work)
    results: dict[int, object] = {}
    series = LoadSeries()

    def play(_ev=None) -> None:
        item = next(todo, None)
        if item is None:
            return
        k, unit, episode = item
        rec, start = EventLog(), env.now
        series.starts[k] = series.drain = start
        series.sample(server)
        draws = realize(scenario, episode, k, replication)

        def ended(_sim) -> None:
            results[k] = digest(unit, [_new(EventRow, (r[0] - start,) + r[1:])
                                        for r in rec.rows])
            series.sample(server)
            if not srv.arrival_rate:
                play()

        SharedEpisodeSim(env, draws, policy_cls, scenario, rec, server, ended,
                         requests).start()

    for t in _start_times(scenario, replication, len(work)):
        env.timeout(t).callbacks.append(play)
    env.run()
    return [results[k] for k in sorted(results)], {**server_stats(server, env.now),
                                                    "series": series}


def _start_times(scenario: Scenario, replication: int, n: int) -> list[float]:
    """When conversations start: spread over the start-up time, or Poisson arrivals."""
    srv = scenario.server
    if not srv.arrival_rate:
        return [i * srv.startup / srv.sessions for i in range(min(srv.sessions, n))]
    rng = branch_stream(scenario.seed, ARRIVALS, replication)
    return [float(t) for t in np.cumsum(rng.exponential(1.0 / srv.arrival_rate, size=n))]


def server_stats(server: BatchServer, end: float) -> dict:
    """Load figures of one run: Little's law terms, utilisation, batch, throughput."""
    s = server.stats
    return {
        "duration": end,
        "requests": s["arrivals"],
        "arrival_rate": s["arrivals"] / end if end else 0.0,
        "mean_in_system": s["area_in_system"] / end if end else 0.0,
        "mean_time_in_system": s["time_in_system"] / s["departures"] if s["departures"] else 0.0,
        "utilization": s["busy"] / end if end else 0.0,
        "mean_batch": s["area_batch"] / s["decoding"] if s["decoding"] else 0.0,
        "tokens_per_s": s["tokens"] / end if end else 0.0,
        "mean_queue_wait": s["queue_wait"] / s["admitted"] if s["admitted"] else 0.0,
    }
