"""Sans-I/O OAI-PMH core shared by provider and harvester: no sockets, no SQL, no files written."""
