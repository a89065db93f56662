"""Command-line interface of the toolkit (`oai ...`)."""
