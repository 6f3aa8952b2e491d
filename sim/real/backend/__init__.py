"""Real backends: a streaming client for OpenAI-compatible chat APIs and the embedded SmolLM2
server.

Modules: `client` (Backend, the streaming chat adapter) and `stream` (Chunk, StreamResult),
`embedded` (start and stop the local llama.cpp server; `llama_server` is its launcher),
`errors` (BackendError). `client` and `stream` need the `real` extra (httpx, httpx-sse);
nothing is imported here, so the core CLI runs without it. docs/backends.md.
"""
