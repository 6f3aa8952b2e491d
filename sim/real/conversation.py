"""The chat a real model sees: what the policy had it read, and what it wrote.

The real driver turns each StartGeneration into a request whose prompt is this
conversation. A request that reads `prefill` new tokens appends the user's words heard
since the last read (the trace's words), then, for the rest of the count (tool results),
filler text of that many tokens. What the model writes is appended as its own message.
Only appending keeps every prompt an extension of the one before, so a server's prompt
cache sees the same prefixes the latency model assumes. The system prompt is filler of
the scenario's `model.system_tokens`.
"""

FILLER = " data"  # one token per repetition in common BPE vocabularies (SmolLM2, GPT-2)


def filler(tokens: int) -> str:
    """Text of about `tokens` tokens."""
    return (FILLER * tokens).strip()


class Conversation:
    """The messages of one episode, grown by reads and writes."""

    def __init__(self, system_tokens: int):
        self.messages: list[dict] = [{"role": "system", "content": filler(system_tokens)}]
        self.words: tuple[str, ...] = ()
        self.word_tokens: tuple[int, ...] = (0,)
        self.heard = self.read_words = 0

    def begin_turn(self, words: tuple[str, ...], word_tokens: tuple[int, ...]) -> None:
        """A new utterance starts: nothing of it heard yet."""
        self.words, self.word_tokens = words, word_tokens
        self.heard = self.read_words = 0

    def hear(self, words: int) -> None:
        """The transcript now covers the first `words` words."""
        self.heard = max(self.heard, words)

    def read(self, prefill: int) -> None:
        """Append what a request with `prefill` new tokens reads."""
        new = self.words[self.read_words:self.heard]
        spent = self.word_tokens[self.heard] - self.word_tokens[self.read_words]
        if new:
            self._append("user", " ".join(new))
            self.read_words = self.heard
        if prefill - spent > 0:
            self._append("user", "Tool result:" + FILLER * (prefill - spent))

    def wrote(self, text: str) -> None:
        """Append the model's output."""
        if text:
            self._append("assistant", text)

    def _append(self, role: str, text: str) -> None:
        last = self.messages[-1]
        if last["role"] == role and role == "user":
            last["content"] += " " + text
        else:
            self.messages.append({"role": role, "content": text})

    def prompt(self) -> list[dict]:
        """A copy of the messages, for one request."""
        return [dict(m) for m in self.messages]
