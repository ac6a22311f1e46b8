"""The drivers' shared async half: sessions, components and the byte path, written once
against a :class:`Runtime` (see :mod:`wamp_core.driver`). Nothing here imports an async
library; the core's sans-IO layers never import this one."""
