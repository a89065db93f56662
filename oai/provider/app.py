"""Flask application factory: one endpoint, `/oai`, answering GET and POST identically."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, Response, redirect, request

from oai.config import Config, load_config
from oai.protocol.tokens import TokenCodec
from oai.provider.compression import compress, negotiate
from oai.provider.handlers import Provider
from oai.store.repository import Store

CONTENT_TYPE = "text/xml; charset=utf-8"


def create_app(config: Config | None = None, store: Store | None = None) -> Flask:
    """Build the WSGI app; the store is opened here unless one is handed in (tests)."""
    config = config or load_config()
    store = store or Store.open(config.database_url)
    secret = config.secret_key or store.setting("token_secret")
    if not secret:
        raise RuntimeError("no token secret: run 'oai init' or set secret_key")
    provider = Provider(config, store, TokenCodec(secret.encode("utf-8")))

    app = Flask(__name__)
    app.config["OAI_PROVIDER"] = provider

    @app.route("/oai", methods=["GET", "POST"])
    def oai_endpoint() -> Response:
        if request.method == "POST":
            raw = request.get_data(cache=False).decode("latin-1")
        else:
            raw = request.query_string.decode("latin-1")
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")
        base_url = config.base_url or request.base_url
        # A response is bounded by the page size, so it is sent as one buffer with a
        # Content-Length: one write instead of hundreds of chunked ones.
        body = provider.handle(pairs, base_url).body()
        headers = {"Vary": "Accept-Encoding"}
        coding = negotiate(request.headers.get("Accept-Encoding")) if config.compression \
            else None
        if coding:
            body = compress(body, coding)
            headers["Content-Encoding"] = coding
        return Response(body, status=200, content_type=CONTENT_TYPE, headers=headers)

    @app.route("/")
    def index() -> Response:
        return redirect("/oai?verb=Identify")  # type: ignore[return-value]

    return app
