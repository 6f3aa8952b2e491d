"""Base URLs of OpenAI-compatible servers: what is accepted, its usual form, what is shown.

Standard library only, so options can be checked before the `real` extra is needed.
"""

from urllib.parse import urlsplit

EXPECTED = "expected http(s)://host[:port][/path]"


def url_problem(url: str) -> str | None:
    """What is wrong with `url` as a server's base URL, in a few words; None if nothing."""
    if any(c.isspace() or not c.isprintable() for c in url.strip()):
        return "a URL has no spaces or control characters"
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return EXPECTED
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "the port must be a number from 1 to 65535"
    if parts.query or parts.fragment:
        return "a base URL has no ?query or #fragment"
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        return f"{parts.hostname!r} is not a valid host name"
    return None


def normalize_url(url: str) -> str:
    """`url` (already checked with `url_problem`) without a trailing slash; a bare
    http(s)://host:port gets the usual /v1."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def without_credentials(url: str) -> str:
    """`url` as it may be shown or written: any user:password@ removed (also from a URL
    that does not parse)."""
    scheme, slashes, rest = url.partition("//")
    if not slashes:
        return url
    end = min([i for i in map(rest.find, "/?#") if i >= 0] or [len(rest)])
    return f"{scheme}{slashes}{rest[:end].rpartition('@')[2]}{rest[end:]}"
