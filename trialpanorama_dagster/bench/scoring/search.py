"""Study search: the model writes a PubMed query; the search environment runs it.

Parsing, first found wins (``<think>`` blocks ignored):

1. ``"query"`` (or ``search_query``, ``pubmed_query``, ``boolean_query``) of a JSON object (fenced
   or bare, also inside ``<answer>``); a list of strings is read as the lines of a search strategy;
2. the content of the last ``<answer>`` tag (or the text before a lone ``</answer>``, for prompts
   prefilled with ``<answer>``), less code fences and wrapping quotes;
3. the body of a non-JSON code fence;
4. the last paragraph (lines between blank lines) that holds an upper-case AND / OR / NOT, else the
   last that holds a parenthesis, less a leading label such as "Query:".

An empty query is unparsed.

Scoring: the query runs with ``env.search(query, k=1000)`` (the reference's ``retmax=1000``) and

* ``recall@k = |set(ranked[:k]) ∩ labels| / |labels|``, ``precision@k = |…| / k`` for k in 100 …
  500 (:func:`..metrics.recall_at`, :func:`..metrics.precision_at`);
* a query the environment cannot read (``QueryError``) and an unparsed output score 0 on every
  figure (the reference counts a failed search as recall 0) and are counted in ``query_errors``
  and ``unparsed``; any other exception from the environment is raised (a broken environment must
  not read as a bad model);
* metrics are means over all samples (a sample without labels has no recall and is left out of
  the recall means).
"""
from __future__ import annotations

import re

from ..metrics import mean, precision_at, recall_at
from ..parsing import answer_tag, fences, find_json, find_key, strip_think
from ..search_env import QueryError, SearchEnv
from .base import Parsed, TaskScorer, unparsed

KS = (100, 200, 300, 400, 500)
RETRIEVE = 1000
QUERY_KEYS = ("query", "search_query", "pubmed_query", "boolean_query")
_OPERATOR = re.compile(r"\b(?:AND|OR|NOT)\b")
_LABEL = re.compile(r"^\s*(?:[*_#>\s]*)(?:(?:final|pubmed|boolean|search)\s+)*(?:search\s+)?(?:query|strategy|string)"
                    r"\s*[*_]*\s*[:=]\s*[*_]*\s*", re.I)


def _clean(text: str) -> str:
    text = text.strip()
    for lang, body in fences(text):
        if body.strip():
            text = body.strip()
            break
    text = _LABEL.sub("", text, count=1).strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "`'\"":
        text = text[1:-1].strip()
    return text


def _from_json(text: str) -> str | None:
    obj = find_json(text, *QUERY_KEYS)
    if obj is None:
        return None
    q = find_key(obj, *QUERY_KEYS)
    if isinstance(q, list) and all(isinstance(x, str) for x in q):
        q = "\n".join(q)
    return q.strip() if isinstance(q, str) else None


def parse_query(output: str) -> str | None:
    text = strip_think(output)
    q = _from_json(text)
    if q is None:
        tag = answer_tag(text)
        if tag is not None:
            q = _clean(tag)
    if q is None:
        q = next((b.strip() for lang, b in fences(text) if b.strip() and lang not in ("json",)), None)
    if q is None:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        pick = (next((p for p in reversed(paragraphs) if _OPERATOR.search(p)), None)
                or next((p for p in reversed(paragraphs) if "(" in p or ")" in p), None))
        q = _clean(pick) if pick else None
    return q or None


class SearchScorer(TaskScorer):
    task = "study_search"

    def _parse(self, output: str) -> Parsed:
        q = parse_query(output)
        return Parsed(q, True) if q else unparsed("no query found")

    def score_sample(self, record: dict, output: str, env: SearchEnv | None = None) -> dict:
        if env is None:
            raise ValueError("study_search runs each query: pass a search environment "
                             "(env=LocalSearchEnv.open(db_path), trialpanorama_dagster.bench.search_env)")
        parsed = self.parse(output)
        relevant = [str(x) for x in record.get("labels") or []]
        ranked, error = [], None
        if parsed.ok:
            try:
                ranked = [str(x) for x in env.search(parsed.value, RETRIEVE)]
            except QueryError as exc:
                error = str(exc)
        row = self.base_row(record, parsed)
        row.update(query=parsed.value, query_error=error, n_relevant=len(set(relevant)), n_retrieved=len(ranked),
                   found=len(set(ranked) & set(relevant)))
        for k in KS:
            row[f"recall@{k}"] = recall_at(ranked, relevant, k)
        for k in KS:
            row[f"precision@{k}"] = precision_at(ranked, relevant, k)
        return row

    def aggregate(self, rows: list[dict]) -> dict:
        out = {f"recall@{k}": mean(r[f"recall@{k}"] for r in rows) for k in KS}
        out.update({f"precision@{k}": mean(r[f"precision@{k}"] for r in rows) for k in KS})
        out.update(self.counts(rows), query_errors=sum(r["query_error"] is not None for r in rows))
        return out
