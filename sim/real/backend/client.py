"""Streaming chat client for any OpenAI-compatible server (llama.cpp, vLLM, Ollama, hosted APIs).

    backend = Backend("http://127.0.0.1:8000/v1", "smollm2")
    async with backend:
        async with backend.stream(messages, 40) as s:
            async for chunk in s:          # Chunk(text, tokens, at=time.perf_counter(), kind)
                ...
        s.result.tokens, s.result.ttft

Leaving the `async with backend.stream(...)` block early, or cancelling the task inside it,
closes the HTTP connection at once; servers stop generating when they see it closed.
Connection errors, 408, 429 and 5xx are retried with exponential backoff before the first
byte of a response; everything else fails at once with a one-line BackendError. A Backend
pools connections for one event loop: create it inside the loop that uses it.
"""

import asyncio
import contextlib
import os
import time

import httpx

from rtsim.errors import option
from rtsim.real.backend.errors import BackendError
from rtsim.real.backend.stream import Stream, StreamResult, keep_secret, one_line
from rtsim.real.backend.urls import normalize_url, url_problem, without_credentials
from rtsim.text import count

RETRY_STATUS = frozenset({408, 429})
EXACT_FIELDS = ("min_tokens", "ignore_eos")  # llama-cpp-python, vLLM, llama.cpp's server
FORCE_TOOL = ("named", "prefilled")


def normalize_base_url(url: str) -> str:
    """`url` without a trailing slash; a bare http(s)://host:port gets the usual /v1."""
    problem = url_problem(url)
    if problem:
        raise BackendError(f"backend URL {url!r}: {problem}")
    return normalize_url(url)


class Backend:
    """An OpenAI-compatible chat completions endpoint, called with streaming.

    `api_key_env` names the environment variable holding the API key; it is read at each
    call and sent only as the Authorization header. `connect_timeout` bounds connecting,
    `read_timeout` the silence before the first byte and between chunks. `exact_fields`
    are the request fields that force `max_tokens` tokens when `exact=True` (each is set
    to max_tokens, or true for `ignore_eos`); pass () for APIs that reject them.
    `force_tool` is how a forced call asks for its tool: "named" (`tool_choice` names it:
    OpenAI, llama-cpp-python, vLLM) or "prefilled" (`tool_choice: "required"`, one call, and
    the reply prefilled with the `{` that opens it: llama.cpp's llama-server takes only the
    string forms and lets text come before a call; the model's calls must be bare JSON
    objects, as in smollm2-tools.jinja). Either way the request lists only that tool.
    """

    def __init__(self, base_url: str, model: str, api_key_env: str | None = None, *,
                 connect_timeout: float = 5.0, read_timeout: float = 60.0, retries: int = 3,
                 backoff: float = 0.5, temperature: float = 0.0,
                 exact_fields: tuple[str, ...] = EXACT_FIELDS, force_tool: str = "named"):
        if force_tool not in FORCE_TOOL:
            raise ValueError(f"force_tool must be one of {', '.join(FORCE_TOOL)}, not "
                             f"{force_tool!r}")
        self._url = normalize_base_url(base_url)  # with credentials, for requests only
        self.base_url = without_credentials(self._url)
        self.model = model
        self.api_key_env = api_key_env
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.retries, self.backoff = retries, backoff
        self.temperature = temperature
        self.exact_fields = tuple(exact_fields)
        self.force_tool = force_tool
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"Backend({self.base_url!r}, {self.model!r})"

    async def __aenter__(self) -> "Backend":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def body(self, messages: list[dict], max_tokens: int, *, tool: dict | None = None,
             exact: bool = True, stream: bool = True) -> dict:
        """The JSON request for `messages`; `tool` = {name, parameters} forces that call.

        A forced call's length is set by its arguments (the server's grammar ends it), so
        `exact` applies to text only; `max_tokens` still caps the call.
        """
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                "temperature": self.temperature, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if tool is not None:
            function = {"name": tool["name"], "parameters": tool.get("parameters") or
                        {"type": "object", "properties": {}}}
            body["tools"] = [{"type": "function", "function": function}]
            if self.force_tool == "prefilled":
                body.update(tool_choice="required", parallel_tool_calls=False)
                body["messages"] = [*messages, {"role": "assistant", "content": "{"}]
            else:
                body["tool_choice"] = {"type": "function", "function": {"name": tool["name"]}}
        elif exact:
            body.update({f: True if f == "ignore_eos" else max_tokens for f in self.exact_fields})
        return body

    @contextlib.asynccontextmanager
    async def stream(self, messages: list[dict], max_tokens: int, *, tool: dict | None = None,
                     exact: bool = True, extra: dict | None = None):
        """Open a streaming request; yields a Stream to iterate for Chunks. `extra`: more
        fields of the request (a server's own, e.g. llama-server's `id_slot`).

        `result.sent_at` is taken before the first attempt, so retries count in the TTFT.
        """
        sent_at = time.perf_counter()
        body = self.body(messages, max_tokens, tool=tool, exact=exact)
        response = await self._send("/chat/completions", {**body, **(extra or {})})
        s = Stream(response, sent_at, max_tokens, self.read_timeout)
        try:
            yield s
        finally:
            await s.aclose()

    async def generate(self, messages: list[dict], max_tokens: int, *, tool: dict | None = None,
                       exact: bool = True) -> StreamResult:
        """Stream a whole reply and return its result."""
        async with self.stream(messages, max_tokens, tool=tool, exact=exact) as s:
            async for _ in s:
                pass
        return s.result

    async def prefill(self, messages: list[dict]) -> StreamResult:
        """Have the server read `messages` (one token generated) to warm its prompt cache."""
        return await self.generate(messages, 1, exact=False)

    async def prompt_tokens(self, messages: list[dict]) -> int:
        """The server's token count of `messages` (a one-token request; cheap once cached)."""
        response = await self._send("/chat/completions",
                                    self.body(messages, 1, exact=False, stream=False))
        usage = (await _json(response)).get("usage") or {}
        if not isinstance(usage.get("prompt_tokens"), int):
            raise BackendError(f"{self.base_url}: the reply has no usage.prompt_tokens")
        return usage["prompt_tokens"]

    async def pick_model(self) -> str:
        """The model to call: the one given, else the first the server lists."""
        if not self.model:
            listed = await self.models()
            if not listed:
                raise BackendError(f"{self.base_url} lists no models; pass {option('model')}")
            self.model = listed[0]
        return self.model

    async def models(self) -> list[str]:
        """The model ids the server lists (GET /models)."""
        data = await _json(await self._send("/models"))
        return [m.get("id", "") for m in data.get("data") or [] if isinstance(m, dict)]

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
            self._http = httpx.AsyncClient(timeout=timeout)
        return self._http

    def _headers(self) -> dict:
        if not self.api_key_env:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            raise BackendError(f"environment variable {self.api_key_env} (the API key) is "
                               "not set")
        keep_secret(key)
        return {"Authorization": f"Bearer {key}"}

    async def _send(self, path: str, body: dict | None = None) -> httpx.Response:
        """Send with retries; the response (status < 400) is open for streaming."""
        client, url = self._client(), self.base_url + path
        request = client.build_request("POST" if body is not None else "GET", self._url + path,
                                       json=body, headers=self._headers())
        for attempt in range(self.retries + 1):
            problem = await self._attempt(client, request, url)
            if isinstance(problem, httpx.Response):
                return problem
            if attempt < self.retries:
                await asyncio.sleep(self.backoff * 2 ** attempt)
        raise BackendError(f"{url}: {problem} (gave up after "
                           f"{count(self.retries + 1, 'attempt')})")

    async def _attempt(self, client, request, url) -> "httpx.Response | str":
        """The response, or why a retry may help; raises when it would not."""
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectTimeout:
            return f"cannot connect within {self.connect_timeout} s"
        except httpx.TimeoutException:
            raise BackendError(f"{url}: no response within {self.read_timeout} s "
                               "(read timeout)") from None
        except httpx.UnsupportedProtocol as exc:
            raise BackendError(f"{url}: {one_line(exc)}") from None
        except httpx.TransportError as exc:
            return f"cannot connect ({exc.__class__.__name__}: {one_line(exc) or 'no detail'})"
        if response.status_code < 400:
            return response
        message = await _error_message(response)
        if response.status_code >= 500 or response.status_code in RETRY_STATUS:
            return f"HTTP {response.status_code}: {message}"
        raise BackendError(f"{url}: HTTP {response.status_code}: {message}")


async def _error_message(response: httpx.Response) -> str:
    """The server's error message from an error response (OpenAI, FastAPI or plain text)."""
    try:
        await response.aread()
    except httpx.HTTPError:
        return "(no readable body)"
    finally:
        await response.aclose()
    try:
        data = response.json()
    except ValueError:
        return one_line(response.text) or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message", data)))
        if isinstance(error, dict):
            error = error.get("message", error)
        return one_line(error)
    return one_line(data)


def _shown(response: httpx.Response) -> str:
    return without_credentials(str(response.url))


async def _json(response: httpx.Response) -> dict:
    """The JSON object body of a (non-streaming) response."""
    try:
        await response.aread()
        data = response.json()
    except httpx.HTTPError as exc:
        raise BackendError(f"{_shown(response)}: reply cut ({one_line(exc)})") from None
    except ValueError:
        raise BackendError(f"{_shown(response)}: reply is not JSON: "
                           f"{one_line(response.text)!r}") from None
    finally:
        await response.aclose()
    if not isinstance(data, dict):
        raise BackendError(f"{_shown(response)}: reply is not a JSON object")
    return data
