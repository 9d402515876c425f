"""The report's one error: a directory it cannot report on."""

from __future__ import annotations


class ReportError(ValueError):
    """The directory holds neither a sweep's results nor a run's tables."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
