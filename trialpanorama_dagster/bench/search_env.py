"""Where the study-search task runs its queries.

A :class:`SearchEnv` takes a PubMed boolean query and returns the ranked PMIDs it retrieves (best
first, at most ``k``); a query it cannot read raises :class:`~..search.query.QueryError` (a
``ValueError``), which the study-search scorer counts as a failed search (recall 0, as the
reference counts a search that fails).

:class:`LocalSearchEnv` is the frozen local environment: the warehouse's tantivy index
(:mod:`..search.index`) restricted to articles, whose ids are PMIDs. The same warehouse always gives
the same ranking, so scores are reproducible, unlike a live PubMed search.
"""
from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from ..search.index import SearchIndex, default_index_path
from ..search.query import QueryError

__all__ = ["SearchEnv", "LocalSearchEnv", "QueryError"]


@runtime_checkable
class SearchEnv(Protocol):
    def search(self, query: str, k: int) -> list[str]:
        """Ranked PMIDs for ``query`` (at most ``k``); raises QueryError for a query it cannot read."""
        ...


class LocalSearchEnv:
    """Article search over a warehouse's local index (``kind="article"``: ids are PMIDs)."""

    def __init__(self, index: SearchIndex):
        self.index = index

    @classmethod
    def open(cls, db_path: str | os.PathLike) -> "LocalSearchEnv":
        """The environment over the index next to the warehouse file (``<db>.search-index``); raises
        FileNotFoundError when that index was not built (``trialpanorama search`` builds it)."""
        path = default_index_path(db_path)
        try:
            return cls(SearchIndex(path))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}: build the search index of {db_path} first "
                                    "(trialpanorama search QUERY --db FILE builds it)") from None

    def search(self, query: str, k: int = 1000) -> list[str]:
        if not isinstance(query, str):
            raise QueryError(f"a query must be text, not {type(query).__name__}")
        return self.index.search(query, k=k, kind="article")

    def __repr__(self) -> str:
        return f"LocalSearchEnv({self.index.info.path})"
