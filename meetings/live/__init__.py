"""The live meeting session: WebSocket protocol, caption ingest, the event log and live analysis.

``protocol``  pydantic models of every frame (the JSON Schemas in docs/protocol/ come from them)
``payloads``  every frame the server sends, built from those models (events, acks, errors, hello)
``ingest``    ``caption_ingest``: a caption stored exactly once, in order, under the meeting's row lock
``events``    ``event_emit`` / ``events_since``: the per-meeting event log that replay reads
``pipeline``  analysis of final captions and answers to ``ask`` (off the socket, in order per meeting)
``runner``    the lane pools, and ``company_job``: the one place live work enters a tenant scope
``session``   start/end/status, a connection's hello, captions and asks under the rate limit, replay
``render``    the output formats of the socket (JSON v1, legacy dialect, HTML) as renderer objects
``api``       REST control endpoints for clients that cannot hold a socket (same session services)
"""
