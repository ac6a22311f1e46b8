"""The configuration layer: transport dicts, the reconnect policy and TLS helpers. Pure data and
decisions; it imports no message, framing, client or router code."""
