"""A scripted backend for `rtsim probe`: its forced call is a function of the words heard.

The chat of a probe request ends with the first words of the turn's utterance (a guess,
or the reference on the whole utterance); a commit request ends with the partial words,
the guess written as the model's reply (`name({json})`), then the rest of the words.
`guess(heard, reference)` gives the arguments written after `heard` words;
`commit(heard, guess, reference)` those written at the commit point. A function may
return None (a reply that is not JSON arguments) or raise.
"""

import asyncio
import json
from types import SimpleNamespace

import yaml

BOOKING = ("book a table for four at Nopa please", {"place": "Nopa", "people": "four"})
BOOKINGS = (BOOKING, ("book a table for five at Zuni please", {"place": "Zuni", "people": "five"}),
            ("book a table for six at Coi please", {"place": "Coi", "people": "six"}))


class ScriptedBackend:
    """Answers forced calls from the words heard; counts the requests sent.

    `turns` are the episode's (utterance, reference arguments); a chat's turn is found from
    its length (the system prompt, then a user and an assistant message a turn)."""

    base_url = "http://fake/v1"
    model = "scripted"

    def __init__(self, guess, commit, turns=(BOOKING,)):
        self.guess, self.commit, self.turns = guess, commit, turns
        self.sent = 0

    async def generate(self, messages, max_tokens, *, tool=None, exact=True):
        self.sent += 1
        assert tool is not None and not exact
        last = messages[-1]["content"]
        turn = (len(messages) - 2) // 2
        if turn < len(self.turns) and self.turns[turn][0].startswith(last):
            args = self.guess(len(last.split()), self.turns[turn][1])
        else:
            turn -= 1
            written = messages[-2]["content"]
            earlier = json.loads(written[len(tool["name"]) + 1:-1])
            args = self.commit(len(messages[-3]["content"].split()), earlier,
                               self.turns[turn][1])
        return SimpleNamespace(arguments=lambda: args)


def run_with(backend):
    """A stand-in for rtsim.real.connect.run_against that runs `work` on `backend`."""
    def run_against(target, work, echo=print):
        return asyncio.run(work(backend))
    return run_against


def trace_file(path, turns=(BOOKING,), tool="book_table"):
    """A trace file of one episode whose turns each make one unsafe call of `tool`."""
    episode = {"id": "e1", "turns": [
        {"user": words, "answer": "Done.", "steps": [{"calls": [
            {"id": f"c{i}", "name": tool, "arguments": args, "safe": False,
             "output_tokens": 5}]}]}
        for i, (words, args) in enumerate(turns, 1)]}
    path.write_text(json.dumps(episode) + "\n", encoding="utf-8")
    return path


def scenario_file(path, traces):
    """edge-3b's speech at 60 words/min without pauses: a partial after every word."""
    from rtsim.scenario.load import read_scenario_yaml

    raw = read_scenario_yaml("edge-3b")[0]
    raw["traces"] = str(traces)
    raw["speech"] = {"words_per_minute": 60, "pause": 0}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path
