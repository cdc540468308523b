"""One shape for everything wrong in what an operator wrote: a located Problem, and an error carrying them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "ProblemsError"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, located precisely enough for an operator to fix it."""

    path: str
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.path}:{self.line}:{where} {self.message}"


class ProblemsError(Exception):
    """Something cannot be used; ``problems`` says every reason, each located, one per line of the message."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
