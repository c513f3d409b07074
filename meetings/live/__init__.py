"""The live meeting session: WebSocket protocol, caption ingest, the event log and live analysis.

``protocol``  pydantic models of every frame (the JSON Schemas in docs/protocol/ come from them)
``ingest``    ``caption_ingest``: a caption stored exactly once, in order, under the meeting's row lock
``events``    ``event_emit`` / ``events_since``: the per-meeting event log that replay reads
``pipeline``  analysis of final captions and answers to ``ask`` (off the socket, in order per meeting)
``session``   start/end/status of a live session and connection bookkeeping
``api``       REST control endpoints for clients that cannot hold a socket
"""
