"""Text analysis shared by indexing and querying, so both sides cut words the same way.

Words: tantivy's simple tokenizer (runs of letters and digits), lower case, ASCII folding
(``Ménière`` -> ``meniere``), words over 64 characters dropped; no stemming and no stop words,
as PubMed (variants come from truncation). Subject headings and publication types are matched
whole: their key is their words joined by single spaces, so ``Carcinoma, Non-Small-Cell Lung``
and ``carcinoma non small cell lung`` are the same heading.
"""
from __future__ import annotations

from functools import lru_cache

import tantivy

TOKENIZER = "pubmed"      # the name text fields are declared with
ANALYZER_VERSION = "simple+lowercase+asciifold+remove_long64"


def build_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(64))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())


ANALYZER = build_analyzer()


def words(text: str) -> list[str]:
    return ANALYZER.analyze(text) if text else []


@lru_cache(maxsize=262_144)
def heading_key(text: str) -> str:
    """The whole-value key of a subject heading or publication type."""
    return " ".join(words(text))
