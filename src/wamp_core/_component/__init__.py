"""The component layer: driver-independent pieces every async driver shares (request
outcomes, the answer to an invocation), still without I/O."""

from ._requests import (
    Outcome as Outcome,
    RequestTracker as RequestTracker,
    answer_invocation as answer_invocation,
    invocation_error as invocation_error,
    invocation_result as invocation_result,
)

__all__ = [
    "Outcome",
    "RequestTracker",
    "answer_invocation",
    "invocation_error",
    "invocation_result",
]
