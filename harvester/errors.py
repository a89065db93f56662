"""Everything that can go wrong while harvesting, as one exception tree (modelled on httpx's).

    HarvestError
    ├── TransportError            the request did not produce a usable HTTP answer
    │   ├── RequestTimeout        connect or read timeout
    │   │   └── DeadlineExceeded  the whole request (headers and body) took too long
    │   ├── ConnectFailed         DNS, refused connection, reset, TLS, broken stream
    │   ├── HTTPStatusError       a non-retryable 4xx whose body is not XML
    │   ├── RedirectRefused       a redirect loop, too many hops, or a non-http(s) target
    │   ├── RetryAfterTooLong     the server asked to come back later than we will wait
    │   └── RetriesExhausted      every attempt failed (timeouts, 5xx, 429...)
    ├── ResponseError             an HTTP answer arrived but is not a usable OAI-PMH page
    │   ├── NotOAIResponse        HTML, JSON, empty body, plain text, wrong root element
    │   ├── MalformedResponse     XML that even the repairs could not parse
    │   └── ResponseTooLarge      the body exceeded the configured byte cap
    ├── OAIProtocolError          the repository answered with OAI-PMH <error> elements
    ├── SuspiciousPaging          the resumption sequence looks wrong (cursor backwards,
    │   └── LoopDetected          endless empty pages) / the server is looping (repeated token
    │                             or repeated page content)
    └── RunStopped                the run was stopped before it finished, on purpose
        ├── Interrupted           Ctrl-C or SIGTERM
        ├── BudgetExhausted       the run's request or wall-clock budget is spent
        └── CircuitOpen           too many consecutive failed requests without progress

Each `str()` is one line a librarian can read; the URL, when known, is kept in `.url`.
"""

from __future__ import annotations

from collections.abc import Sequence

from oai.protocol.errors import OAIError


class HarvestError(Exception):
    """Base of every harvesting failure."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} ({self.url})" if self.url else self.message


class TransportError(HarvestError):
    """No usable HTTP answer: worth retrying later, nothing wrong with the data yet."""


class RequestTimeout(TransportError):
    """The server did not connect or answer within the configured timeout."""


class DeadlineExceeded(RequestTimeout):
    """The whole request took longer than its deadline (a server trickling bytes)."""


class RedirectRefused(TransportError):
    """A redirect we will not follow: a loop, too many hops, or a scheme other than http(s)."""


class RetryAfterTooLong(TransportError):
    """The server asked us to come back later than the configured cap allows us to wait."""

    def __init__(self, seconds: float, cap: float, *, url: str | None = None) -> None:
        super().__init__(f"the server asked to retry after {seconds:.0f} s, more than the "
                         f"{cap:.0f} s we wait (max_retry_after); run again later", url=url)
        self.seconds = seconds
        self.cap = cap


class ConnectFailed(TransportError):
    """The connection could not be made or broke while reading."""


class HTTPStatusError(TransportError):
    """A 4xx (or other non-retryable status) with a body that is not XML to read errors from."""

    def __init__(self, status: int, message: str | None = None, *, url: str | None = None) -> None:
        super().__init__(message or f"the server answered HTTP {status}", url=url)
        self.status = status


class RetriesExhausted(TransportError):
    """Every attempt failed; `last_error` is the final failure, `status` its HTTP status if any."""

    def __init__(
        self,
        attempts: int,
        last_error: BaseException | None = None,
        *,
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        what = str(last_error) if last_error else f"HTTP {status}"
        if last_error is not None and isinstance(last_error, HarvestError):
            what = last_error.message
        plural = "s" if attempts != 1 else ""
        super().__init__(f"gave up after {attempts} attempt{plural}: {what}", url=url)
        self.attempts = attempts
        self.last_error = last_error
        self.status = status


class ResponseError(HarvestError):
    """The server answered, but not with a usable OAI-PMH response."""


class NotOAIResponse(ResponseError):
    """The body is not an OAI-PMH document at all (an HTML page, JSON, nothing...)."""


class MalformedResponse(ResponseError):
    """The body looks like OAI-PMH XML but cannot be parsed, even after repairs."""


class ResponseTooLarge(ResponseError):
    """The body is larger than the configured cap; it was not read (never truncated)."""

    def __init__(self, limit: int, *, size: int | None = None, url: str | None = None) -> None:
        got = f"{size} bytes" if size is not None else "more"
        super().__init__(f"response too large: {got}, the limit is {limit} bytes", url=url)
        self.limit = limit
        self.size = size


class OAIProtocolError(HarvestError):
    """The repository answered with one or more OAI-PMH errors (spec 3.6)."""

    def __init__(self, errors: Sequence[OAIError], *, url: str | None = None) -> None:
        self.errors = list(errors)
        text = "; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in self.errors)
        super().__init__(f"the repository reported {text or 'an error'}", url=url)

    @property
    def codes(self) -> list[str]:
        """The error codes, in document order."""
        return [e.code for e in self.errors]


class SuspiciousPaging(HarvestError):
    """The resumption sequence does not progress the way a list should."""


class LoopDetected(SuspiciousPaging):
    """The server is sending us in circles: a token or a page we have already seen."""


class RunStopped(HarvestError):
    """The run stopped before it finished, on purpose; it resumes where it stopped."""


class Interrupted(RunStopped):
    """Stopped by Ctrl-C (SIGINT) or SIGTERM."""


class BudgetExhausted(RunStopped):
    """The run's request or wall-clock budget is spent."""


class CircuitOpen(RunStopped):
    """Too many consecutive requests failed without any progress."""
