"""anyio driver for :mod:`wamp_core` (asyncio and trio). Not implemented yet."""

__all__: list[str] = []
