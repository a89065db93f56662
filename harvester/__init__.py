"""Harvester: pulls records from remote OAI-PMH endpoints into the local store."""
