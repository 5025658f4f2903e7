"""A parsed query -> one tantivy query over the index's fields.

Field mapping (PubMed tag -> index fields):

=============  ===========================================================
ti / ab        title / abstract
tiab           ``text``: title, abstract and keywords in one field (PubMed's [tiab] holds
               author keywords too), the title twice (``TITLE_WEIGHT``)
tw, nm         ``text`` + MeSH words (``mesh_text``)
kw             keywords + MeSH words
no tag, all    ``text`` + MeSH words + journal
mh, majr       whole exploded heading (``mesh_exp``: the heading and its descendants' documents)
mh_noexp       whole heading, not exploded (``mesh``)
pt             whole publication type
ta             journal words
dp             year range (``2010:2020[dp]``)
=============  ===========================================================

One combined ``text`` field rather than title OR abstract OR keywords: one posting list per
word instead of three (measured at 1.6M documents: 85 -> 98 queries/s, same queries), and repeating the title
in it is BM25F with field weights title 2, abstract 1 (term frequencies weighted before
saturation, one length normalisation), so title matches rank higher.

A word is a term query; several words (quoted, hyphenated, or tagged together) a phrase query
(with slop for ``[tiab:~N]``). Truncation ``word*`` expands, as PubMed does, to the indexed words
starting with the stem (the ``MAX_VARIANTS`` most frequent when there are more; BM25 over each
variant up to ``SCORED_VARIANTS``, a constant-score term set beyond); a wildcard inside a word
or a phrase becomes a regex (compiling one costs ~0.2 ms, expanding a prefix ~10 µs).
AND -> all Must, OR -> Should, NOT -> MustNot. Terms on fields the index does not hold
(``[sh]``, ``[la]`` …) drop out of their AND/OR; a query with nothing left raises
``QueryError``. Scores are tantivy's BM25 summed over the matching clauses.
"""
from __future__ import annotations

import itertools
import re

import tantivy

from .analysis import heading_key, words
from .nodes import WILDCARD, And, Near, Not, Or, QueryError, Term

MAX_PROXIMITY_PAIRS = 256
MAX_VARIANTS = 600      # PubMed searches the first 600 variants of a truncated word
SCORED_VARIANTS = 64
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "ti": ("title",), "ab": ("abstract",), "tiab": ("text",), "tw": ("text", "mesh_text"),
    "nm": ("text", "mesh_text"), "kw": ("keywords", "mesh_text"), "all": ("text", "mesh_text", "journal"),
    "ta": ("journal",),
}
WHOLE_FIELDS: dict[str, tuple[str, ...]] = {"mh": ("mesh_exp",), "majr": ("mesh_exp",), "mh_noexp": ("mesh",),
                                             "pt": ("pt",)}
_MARK = "zqxjwildzqxj"   # stands for '*' while the analyzer cuts words (it keeps letters only)


def _pieces(text: str) -> list[str]:
    """Analyzed words of ``text``; a truncated word becomes a regex (``lactam.*``)."""
    return [w.replace(_MARK, ".*") for w in words(text.replace(WILDCARD, _MARK))]


def _is_regex(piece: str) -> bool:
    return ".*" in piece


def _prefix(piece: str) -> str | None:
    """The stem of a piece that is a plain prefix (``lactam.*``), else None."""
    stem = piece[:-2]
    return stem if piece.endswith(".*") and ".*" not in stem else None


class Translator:
    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher | None = None):
        self.schema, self.searcher = schema, searcher
        self.memo: dict[int, object] = {}

    def __call__(self, node) -> tantivy.Query:
        query = self.node(node)
        if query is None:
            raise QueryError("nothing to search: every term is on a field the local index does not hold", 0)
        return query

    def node(self, node):
        key = id(node)
        if key not in self.memo:
            self.memo[key] = self._node(node)
        return self.memo[key]

    def _node(self, node):
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, And):
            must, must_not = [], []
            for item in node.items:
                if isinstance(item, Not) and item.include is None:
                    q = self.node(item.exclude)
                    must_not += [q] if q is not None else []
                else:
                    q = self.node(item)
                    must += [q] if q is not None else []
            if not must and not must_not:
                return None
            if len(must) == 1 and not must_not:
                return must[0]
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, q) for q in must or [tantivy.Query.all_query()]]
                + [(tantivy.Occur.MustNot, q) for q in must_not])
        if isinstance(node, Or):
            subs = [q for q in map(self.node, node.items) if q is not None]
            return _any(subs)
        if isinstance(node, Not):
            include = self.node(node.include) if node.include is not None else None
            exclude = self.node(node.exclude)
            if exclude is None:
                return include
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, include or tantivy.Query.all_query()),
                                                (tantivy.Occur.MustNot, exclude)])
        if isinstance(node, Near):
            return self.near(node)
        raise TypeError(f"not a query node: {node!r}")

    def term(self, t: Term):
        fields = t.fields or ("all",)
        if "dp" in fields:
            return self.years(t)
        text_fields = list(dict.fromkeys(f for tag in fields for f in TEXT_FIELDS.get(tag, ())))
        whole_fields = list(dict.fromkeys(f for tag in fields for f in WHOLE_FIELDS.get(tag, ())))
        pieces = _pieces(t.text)
        subs = []
        for field in text_fields:
            q = self.words(field, pieces, t.slop)
            if q is not None and t.slop and len(pieces) > 1:
                q = _any([q, self.words(field, pieces[::-1], t.slop)])
            if q is not None:
                subs.append(q)
        for field in whole_fields:
            subs += [q for q in [self.whole(field, t.text)] if q is not None]
        return _any(subs)

    def words(self, field: str, pieces: list[str], slop: int = 0):
        if not pieces:
            return None
        if len(pieces) == 1:
            p = pieces[0]
            if not _is_regex(p):
                return tantivy.Query.term_query(self.schema, field, p)
            stem = _prefix(p)
            if stem is None or self.searcher is None:
                return tantivy.Query.regex_query(self.schema, field, p)
            found = self.searcher.terms_with_prefix(field, stem, limit=MAX_VARIANTS)
            return self.variants(field, [t for t, _ in found])
        if any(map(_is_regex, pieces)):
            return tantivy.Query.regex_phrase_query(self.schema, field, pieces, slop=slop)
        return tantivy.Query.phrase_query(self.schema, field, pieces, slop=slop)

    def variants(self, field: str, found: list[str]):
        if not found:
            return tantivy.Query.empty_query()
        if len(found) > SCORED_VARIANTS:
            return tantivy.Query.term_set_query(self.schema, field, sorted(found))
        return _any([tantivy.Query.term_query(self.schema, field, t) for t in sorted(found)])

    def whole(self, field: str, text: str):
        key = heading_key(text.replace(WILDCARD, _MARK))
        if not key:
            return None
        if _MARK in key:
            pattern = ".*".join(re.escape(part) for part in key.split(_MARK))
            return tantivy.Query.regex_query(self.schema, field, pattern)
        return tantivy.Query.term_query(self.schema, field, key)

    def years(self, t: Term):
        years = [int(y) for y in re.findall(r"(?:^|:)\s*(\d{4})", t.text)]
        lo, hi = (years[0], years[-1]) if len(years) > 1 else (years[0], years[0])
        return tantivy.Query.range_query(self.schema, "year", tantivy.FieldType.Integer, min(lo, hi), max(lo, hi))

    def near(self, node: Near):
        left, right = _alternatives(node.left), _alternatives(node.right)
        if len(left) * len(right) > MAX_PROXIMITY_PAIRS:
            raise QueryError(f"ADJ{node.distance} expands to more than {MAX_PROXIMITY_PAIRS} phrases",
                             left[0].pos)
        tags = next((t.fields for t in left + right if t.fields), ()) or ("all",)
        fields = list(dict.fromkeys(f for tag in tags for f in TEXT_FIELDS.get(tag, ())))
        subs = []
        for a, b in itertools.product(left, right):
            pa, pb = _pieces(a.text), _pieces(b.text)
            if not pa or not pb:
                continue
            for field in fields:
                for seq in (pa + pb, pb + pa):
                    subs.append(self.words(field, seq, max(0, node.distance - 1)))
        return _any(subs)


def _alternatives(node) -> list[Term]:
    return [node] if isinstance(node, Term) else [t for n in node.items for t in _alternatives(n)]


def _any(subs: list):
    if not subs:
        return None
    if len(subs) == 1:
        return subs[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in subs])
