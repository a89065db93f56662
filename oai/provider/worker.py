"""gunicorn's gthread worker, answering in OAI-PMH what gunicorn answers itself.

gunicorn refuses some requests before the app sees them: a request line over
`limit_request_line`, too many or too large headers, a malformed request line, method or
HTTP version. It answers those with its own HTML 400/414/431 page, and an error outside the
app with an HTML 500. A harvester can read neither. This worker answers the first kind with
badArgument in HTTP 200 and the second with HTTP 503 and Retry-After, both as schema-valid
OAI-PMH documents, then closes the connection (the rest of the request is unread). The
limits themselves stay (see `oai.provider.server`): only the answer changes.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from gunicorn.http.errors import InvalidResponseHeader, InvalidResponseHeaderName, ParseException
from gunicorn.workers.gthread import ThreadWorker

from oai.config import Config
from oai.protocol.writer import error_document
from oai.provider.app import CONTENT_TYPE, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE
from oai.provider.slow_clients import DEFAULT_SECONDS, TimedSocket
from oai.provider.stylesheet import stylesheet_preamble

# After answering, the unread rest of a refused request is read and dropped for a moment:
# closing a socket with unread data makes the kernel send a reset, which can destroy our
# answer before the client has read it.
DRAIN_SECONDS = 2.0
DRAIN_BYTES = 1 << 20
SEND_TIMEOUT = 5.0


def client_error(error: BaseException) -> bool:
    """Whether gunicorn refused the request itself (as opposed to failing to serve it)."""
    return isinstance(error, ParseException) and not isinstance(
        error, InvalidResponseHeader | InvalidResponseHeaderName)


def base_url_for(config: Config | None, sock: socket.socket) -> str:
    """The configured base URL, else http://<the address the client reached>/oai."""
    if config is not None and config.base_url:
        return config.base_url
    try:
        address: Any = sock.getsockname()
    except OSError:
        address = None
    if not isinstance(address, tuple):  # a Unix socket, or no address at all
        return "http://localhost/oai"
    host, port = address[0], address[1]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/oai"


def http_response(status: str, body: bytes, extra: dict[str, str], head_only: bool) -> bytes:
    headers = {"Content-Type": CONTENT_TYPE, "Content-Length": str(len(body)),
               "Connection": "close", **extra}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode("latin-1") + (b"" if head_only else body)


def is_head(req: Any, error: BaseException) -> bool:
    """Whether the refused request was a HEAD, as far as gunicorn read it (a HEAD answer
    carries no body)."""
    for source in (req, getattr(error, "req", None)):
        method = getattr(source, "method", None)
        if isinstance(method, str):
            return method == "HEAD"
        if isinstance(source, str):  # the request line of InvalidRequestLine
            return source.startswith("HEAD ")
    return False


class OAIThreadWorker(ThreadWorker):
    """ThreadWorker whose error answers are OAI-PMH documents."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any,
                     exc: BaseException) -> None:
        config = getattr(self.app, "oai_config", None)
        base_url = base_url_for(config, client)
        preamble = stylesheet_preamble(config) if config is not None else ""
        now = int(time.time())
        if client_error(exc):
            self.log.warning("refused request from %s: %s", (addr or ("",))[0], exc)
            body = error_document(now, base_url, [(
                "badArgument", f"the HTTP request cannot be read: {type(exc).__name__}")],
                preamble=preamble)
            data = http_response("200 OK", body, {}, is_head(req, exc))
        else:
            self.log.exception("error handling a request", exc_info=exc)
            body = error_document(now, base_url, [(
                "badArgument", UNAVAILABLE_MESSAGE.format(seconds=RETRY_AFTER_SECONDS))],
                preamble=preamble)
            data = http_response("503 Service Unavailable", body,
                                 {"Retry-After": str(RETRY_AFTER_SECONDS)}, is_head(req, exc))
        try:
            client.settimeout(SEND_TIMEOUT)
            client.sendall(data)
            client.shutdown(socket.SHUT_WR)
            drain(client)
        except OSError:
            self.log.debug("could not send the error answer")


def drain(sock: socket.socket) -> None:
    """Read and drop what the client still sends, until it closes, briefly and boundedly."""
    deadline = time.monotonic() + DRAIN_SECONDS
    received = 0
    while received < DRAIN_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return
        received += len(chunk)


#: Seconds a client that was shed is asked to wait (load passes quickly; maintenance does not).
SHED_RETRY_AFTER = 5
#: Seconds a shed connection gets to finish sending its request before the 503 goes out.
SHED_READ_SECONDS = 2.0
#: Connections at most waiting for their 503; beyond, a connection is closed unanswered (each
#: holds a descriptor, and a flood of slow clients must not exhaust them).
SHED_BACKLOG = 256
SHED_MESSAGE = b"Too many requests in flight; retry after the number of seconds in Retry-After.\n"


class SheddingThreadWorker(OAIThreadWorker):
    """OAIThreadWorker that answers 503 with Retry-After above `max_in_flight` requests.

    A request is in flight from the moment its connection is handed to the thread pool until
    its answer is written: requests being answered and requests queued behind them, whatever
    the number of threads. Both ends run on the worker's main loop (gunicorn calls
    `enqueue_req` and, through its method queue, `finish_request` there), so a plain integer
    counts them exactly. A shed connection goes to a small pool of its own, which reads the
    request, answers and closes: the main loop never blocks and no serving thread is taken.
    Every connection's socket bounds its slow clients (`oai.provider.slow_clients`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = getattr(self.app, "oai_config", None)
        self.max_in_flight: int = config.max_in_flight if config is not None else 0
        self.client_timeout: float = (config.client_timeout if config is not None
                                      else DEFAULT_SECONDS)
        self.in_flight = 0
        self._shedder: Any = None
        self._shed_lock = threading.Lock()
        self._shed_pending = 0  # connections waiting for their 503

    def init_process(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from oai.provider import metrics  # after the fork: values go to this worker's files

        self._metrics = metrics.get()
        self._shedder = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shed")
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        if type(conn.sock) is socket.socket:  # a new connection: bound its slow clients
            conn.sock = TimedSocket.adopt(conn.sock, self.client_timeout)
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            self.nr_conns -= 1  # the connection leaves this worker's accounting
            if closed_by_client(conn.sock):  # a kept-alive connection's end: no request
                conn.sock.close()
                return
            self._metrics.shed.labels("load").inc()
            with self._shed_lock:
                if self._shed_pending >= SHED_BACKLOG:  # a flood: no answer at all
                    conn.sock.close()
                    return
                self._shed_pending += 1
            self._shedder.submit(self._shed, conn.sock)
            return
        self.in_flight += 1
        self._metrics.in_flight.inc()
        future = self.tpool.submit(self.handle, conn)
        future.add_done_callback(
            lambda done: self.method_queue.defer(self._finished, conn, done))

    def _shed(self, sock: socket.socket) -> None:
        try:
            shed(sock, SHED_RETRY_AFTER)
        finally:
            with self._shed_lock:
                self._shed_pending -= 1

    def _finished(self, conn: Any, future: Any) -> None:
        self.in_flight -= 1
        self._metrics.in_flight.dec()
        self.finish_request(conn, future)


def closed_by_client(sock: socket.socket) -> bool:
    """Whether the client has closed the connection (its end is all there is to read);
    never blocks."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # nothing to read yet: a request is on its way
    except OSError:
        return True  # reset or otherwise gone


def shed(sock: socket.socket, retry_after: int) -> None:
    """Read the request (briefly), answer 503 with Retry-After, close."""
    try:
        sock.setblocking(True)
        sock.settimeout(SHED_READ_SECONDS)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < DRAIN_BYTES:
            chunk = sock.recv(65536)
            if not chunk:
                break
            head += chunk
        body = b"" if head.startswith(b"HEAD ") else SHED_MESSAGE
        sock.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nRetry-After: %d\r\nConnection: close\r\n\r\n%s"
            % (len(SHED_MESSAGE), retry_after, body))
        sock.shutdown(socket.SHUT_WR)
        drain(sock)
    except OSError:
        pass
    finally:
        sock.close()
