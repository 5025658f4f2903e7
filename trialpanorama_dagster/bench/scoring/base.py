"""What every task scorer shares: the parse result and the scorer interface.

A scorer reads one model output (:meth:`TaskScorer.parse`, which never raises), scores it against
its record (:meth:`TaskScorer.score_sample`: one JSON-serialisable row with ``id``, ``parsed``,
``error`` and the task's gold and predicted fields) and turns the rows into the task's metrics
(:meth:`TaskScorer.aggregate`: always with ``n`` = rows and ``unparsed`` = rows whose output could
not be read; a figure the rows cannot define is None).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from ..search_env import SearchEnv


@dataclass
class Parsed:
    value: Any
    ok: bool
    error: str | None = None


def unparsed(error: str) -> Parsed:
    return Parsed(None, False, error)


class TaskScorer(ABC):
    task: str = ""

    def parse(self, output: str) -> Parsed:
        """The answer an output gives (``ok`` False, with a reason in ``error``, when there is none)."""
        if output is None:
            output = ""
        elif not isinstance(output, str):
            output = str(output)
        try:
            return self._parse(output)
        except Exception as exc:          # a parser must never fail a benchmark run
            return unparsed(f"parser error: {type(exc).__name__}: {exc}")

    @abstractmethod
    def _parse(self, output: str) -> Parsed:
        """The task's parser proper (``parse`` guards it)."""

    @abstractmethod
    def score_sample(self, record: dict, output: str, env: SearchEnv | None = None) -> dict:
        """One sample's score row: ``id``, ``parsed`` and the task's gold and predicted fields."""

    @abstractmethod
    def aggregate(self, rows: list[dict]) -> dict[str, float | int | None]:
        """The task's metrics over score rows (always with ``n`` and ``unparsed``)."""

    def groups(self, rows: list[dict]) -> dict:
        """Per-group figures (per review for screening); {} for tasks without groups."""
        return {}

    def base_row(self, record: dict, parsed: Parsed) -> dict:
        return {"id": record.get("id"), "parsed": bool(parsed.ok), "error": parsed.error}

    def counts(self, rows: list[dict]) -> dict[str, int]:
        return {"n": len(rows), "unparsed": sum(not r["parsed"] for r in rows)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.task!r})"
