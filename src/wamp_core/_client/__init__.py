"""The client layer: the session engine, its events and option types, and the connection
(framing + serializer + session)."""
