"""trio-native driver for :mod:`wamp_core`. Not implemented yet."""

__all__: list[str] = []
