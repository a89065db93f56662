"""Crosswalks: pure functions from the canonical record to one metadata format's XML fragment."""
