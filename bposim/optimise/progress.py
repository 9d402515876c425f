"""What the roster optimiser tells whoever watches it: news lines, the phase it is in, the round, the days it has
simulated and the cheapest roster so far. `Progress` does nothing with them; the CLI draws a progress bar."""

from __future__ import annotations

from collections.abc import Callable

PHASES = ("requirement search", "scheduling", "evaluation", "trim", "verification")


class Progress:
    """A watcher of the optimiser that ignores everything; subclasses show what they like."""

    def say(self, line: str) -> None:
        """A line of news: a round's roster, a trim's verdict."""

    def phase(self, name: str, round_number: int | None = None) -> None:
        """The optimiser entered a phase (one of PHASES), in a round of the loop or of the trim when given."""

    def simulated(self, days: int) -> None:
        """`days` more days were simulated."""

    def best(self, cost: float, unit: str) -> None:
        """The cheapest roster proposed so far costs `cost` `unit` a day."""


class Lines(Progress):
    """The news lines only, to a function (e.g. print)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def say(self, line: str) -> None:
        self.write(line)


def watcher(progress: Progress | Callable[[str], None] | None) -> Progress:
    """`progress` as a Progress: a function taking the news lines, nothing, or itself (a Progress, or any object
    with its methods: the CLI's bar does not import the optimiser to derive from it)."""
    if progress is None:
        return Progress()
    return Lines(progress) if callable(progress) else progress
