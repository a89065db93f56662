"""The OAI-PMH provider: Flask application factory, verb handlers over the store, tokens."""

from oai.provider.app import create_app

__all__ = ["create_app"]
