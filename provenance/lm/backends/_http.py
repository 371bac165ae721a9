"""The HTTP client of the served backends (openai, chat): JSON POSTs with timeouts, retries with exponential
backoff, and a bound on concurrent requests.

The API key comes from an environment variable (``PROVENANCE_OPENAI_API_KEY``, else ``OPENAI_API_KEY``) and goes
only into the Authorization header: it is never part of a model's spec, name, identity, description, an error
message or a log line, so it cannot reach the store, the logs or a report.

Client: httpx (pinned in requirements.txt): a thread-safe client with a connection pool (one TLS handshake per
connection, not per request, which matters for hosted endpoints) and separate connect/read timeouts.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from dataclasses import dataclass

from ..loading import ModelLoadError

log = logging.getLogger(__name__)

KEY_ENVIRONMENT_VARIABLES = ("PROVENANCE_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ServerError(ModelLoadError):
    """A server answered with an error or not at all; the message is a sentence for the user (never the key)."""

    def __init__(self, message: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail


def api_key() -> str | None:
    """The API key from the first environment variable that holds one, or None (local servers need none)."""
    for name in KEY_ENVIRONMENT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class ClientSettings:
    """``timeout``: seconds to wait for an answer (reading); ``connect_timeout``: to reach the server;
    ``retries``: further tries after a failure that may pass (connection errors, 408/429/5xx); the wait before try
    i is ``backoff * 2**i`` seconds (plus up to 25% jitter, at most ``max_backoff``); ``concurrency``: requests in
    flight at once."""

    timeout: float = 120.0
    connect_timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 20.0
    concurrency: int = 4


class ApiClient:
    """POST JSON to ``base_url + path`` and return the decoded JSON answer; thread-safe."""

    def __init__(self, base_url: str, settings: ClientSettings = ClientSettings()):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))
        headers = {"Content-Type": "application/json"}
        key = api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            headers=headers, follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=max(1, settings.concurrency)))

    def close(self) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def get(self, path: str) -> dict:
        return self._request("GET", self.url(path), None)

    def post(self, path: str, payload: dict) -> dict:
        return self._request("POST", self.url(path), payload)

    def post_absolute(self, url: str, payload: dict) -> dict:
        return self._request("POST", url, payload)

    def _request(self, method: str, url: str, payload: dict | None) -> dict:
        import httpx

        s = self.settings
        last: ServerError | None = None
        for attempt in range(s.retries + 1):
            if attempt:
                wait = min(s.max_backoff, s.backoff * 2 ** (attempt - 1)) * (1 + 0.25 * random.random())
                log.info("retrying %s %s in %.1f s (%s)", method, url, wait, last)
                time.sleep(wait)
            try:
                with self._slots:
                    response = self._client.request(method, url, json=payload)
            except httpx.TimeoutException:
                last = ServerError(f"The server at {self.base_url} did not answer within {s.timeout:g} s.")
                continue
            except httpx.HTTPError as exc:
                last = ServerError(f"Could not reach the server at {self.base_url} ({type(exc).__name__}). Is it "
                                   "running, and is the address right?")
                continue
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    raise ServerError(f"The server at {self.base_url} answered {url} with something that is not "
                                      "JSON; is this an OpenAI-compatible API?") from None
            last = _status_error(self.base_url, url, response)
            if response.status_code not in RETRY_STATUS:
                break
        assert last is not None
        raise last


def model_entry(client: ApiClient, model_name: str) -> dict:
    """The server's entry for ``model_name`` in its /models list (an empty dict when the server keeps no such
    list); a ServerError naming the models it does serve when ``model_name`` is not among them."""
    try:
        listing = client.get("models")
    except ServerError as exc:
        if exc.status in (404, 405):
            return {}
        raise
    entries = [e for e in listing.get("data", []) if isinstance(e, dict)] if isinstance(listing, dict) else []
    for entry in entries:
        if entry.get("id") == model_name:
            return entry
    if entries:
        raise ServerError(f"The server at {client.base_url} does not serve a model called '{model_name}'; it "
                          f"serves: {', '.join(str(e.get('id')) for e in entries)}.")
    return {}


def _status_error(base_url: str, url: str, response) -> ServerError:
    detail = _error_detail(response)
    status = response.status_code
    if status in (401, 403):
        message = (f"The server at {base_url} refused the request ({status}): set the API key in "
                   f"{KEY_ENVIRONMENT_VARIABLES[0]} (or {KEY_ENVIRONMENT_VARIABLES[1]}).")
    elif status == 404:
        message = f"The server at {base_url} has no {url[len(base_url):] or '/'} ({status}: {detail})."
    else:
        message = f"The server at {base_url} answered {status}: {detail}"
    return ServerError(message, status, detail)


def _error_detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error)[:300]
    return str(error)[:300]
