"""FitError: a history or call log that cannot be fitted, one line per problem naming the file, the row or column
and what is allowed."""

from __future__ import annotations


class FitError(ValueError):
    """Input `bposim fit` cannot use: `source` names the file (or the flag), each problem says where and what is
    allowed. A ValueError, so code catching ValueError still works."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))

    def __reduce__(self) -> tuple:
        return type(self), (self.source, self.problems)
