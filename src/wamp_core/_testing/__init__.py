"""The private layer behind :mod:`wamp_core.testing`: hypothesis strategies for WAMP values and
messages, and an in-memory client/router pair.

Only the public namespace :mod:`wamp_core.testing` imports this package (``import wamp_core``
never loads it: hypothesis is an optional dependency). Each module holds one kind of thing:

* :mod:`._scalars`: IDs, URIs (loose, strict, pattern) and the small shared pieces;
* :mod:`._payloads`: application values per serializer, ``args``/``kwargs``;
* :mod:`._options`: the Options/Details dicts of each message type and the typed option classes;
* :mod:`._messages`: valid messages of every type;
* :mod:`._invalid`: raw message lists the core must refuse, with the reason;
* :mod:`._pair`: a client :class:`~wamp_core.Connection` joined to the embedded router engine
  in memory (no sockets, no event loop).
"""
