"""Real backends: a streaming client for OpenAI-compatible chat APIs, the embedded SmolLM2
server, and calibration of a scenario's model timing against a backend.

Modules: `client` (Backend, the streaming chat adapter) and `stream` (Chunk, StreamResult),
`embedded` (start and stop the local llama.cpp server; `llama_server` is its launcher),
`calibrate` (measurements), `fit` (least-squares fits), `profile` (report and scenario
YAML), `errors` (BackendError). `client` and `stream` need the `real` extra (httpx,
httpx-sse); nothing is imported here, so the core CLI runs without it. docs/backends.md.
"""
