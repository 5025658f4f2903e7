"""What a review-collection reader returns: review rows, articles, review -> study relations, and
every item it could not use with the reason.

Relations: ``head_id`` the review (``<collection>:<key>``, head_type ``review``), ``tail_id`` the
candidate's article id (``PMID:<n>``, else ``doi:…`` / ``openalex:W…``; tail_type ``article``),
relation_type ``review_candidate`` with label ``included``/``excluded`` at a stage
(``title_abstract`` or ``final``), or ``review_seed`` (label ``seed``) for studies the reviewers knew
before searching. One row per candidate and stage; the origin is ``review:<collection>``.

Counts on the ``reviews`` row come from these labels: ``candidates`` (distinct candidate articles),
``included`` (included at any stage; for single-stage collections the final inclusion),
``included_final`` (included at the final, full-text stage).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...warehouse.schema import table
from ..store import Article, relation_row

INCLUDED, EXCLUDED, SEED = "included", "excluded", "seed"
TITLE_ABSTRACT, FINAL = "title_abstract", "final"
CANDIDATE, SEED_RELATION = "review_candidate", "review_seed"


class ReviewFileError(ValueError):
    """A review file that cannot be read; the message starts with the file's path."""

    def __init__(self, path, message: str):
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


@dataclass(frozen=True)
class Skipped:
    item: str                  # what was not used: a record id, a file, "path:line"
    reason: str
    review_id: str | None = None
    path: str | None = None


@dataclass
class ReviewImport:
    collection: str
    reviews: list[tuple] = field(default_factory=list)       # rows in the ``reviews`` column order
    articles: list[Article] = field(default_factory=list)
    relations: list[tuple] = field(default_factory=list)     # rows in the ``relations`` column order
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)           # disagreements between files, resolved

    @property
    def origin(self) -> str:
        return f"review:{self.collection}"

    @property
    def review_ids(self) -> list[str]:
        return [r[0] for r in self.reviews]

    def skip(self, item, reason: str, review_id: str | None = None, path=None) -> None:
        self.skipped.append(Skipped(str(item), reason, review_id, str(path) if path is not None else None))

    def extend(self, other: "ReviewImport") -> None:
        have = set(self.review_ids)
        for row in other.reviews:
            if row[0] in have:
                self.skip(row[0], f"review read twice; the copy from {row[-1]} is left out", row[0], row[-1])
        dup = {r[0] for r in other.reviews if r[0] in have}
        self.reviews += [r for r in other.reviews if r[0] not in dup]
        self.relations += [r for r in other.relations if r[0] not in dup]
        self.articles += other.articles
        self.skipped += other.skipped
        self.notes += other.notes

    def per_review(self) -> list[dict]:
        """Counts per review: candidates, included (any stage), included_final, excluded (never
        included), seeds, articles (linked studies, candidates or seeds, with a title or abstract here),
        skipped items."""
        cols = table("reviews").column_names
        text_ids = {a.article_id for a in self.articles}
        seeds: Counter = Counter()
        tails: dict[str, set] = {}
        for r in self.relations:
            if r[4] == SEED_RELATION:
                seeds[r[0]] += 1
            tails.setdefault(r[0], set()).add(r[2])
        skipped = Counter(s.review_id for s in self.skipped)
        out = []
        for row in self.reviews:
            d = dict(zip(cols, row))
            out.append({"review_id": d["review_id"], "title": d["title"], "candidates": d["candidates"],
                        "included": d["included"], "included_final": d["included_final"],
                        "excluded": d["candidates"] - d["included"], "seeds": seeds[d["review_id"]],
                        "articles": len(tails.get(d["review_id"], set()) & text_ids),
                        "skipped": skipped[d["review_id"]]})
        return out

    def counts(self) -> dict:
        """Totals over the reviews, distinct articles and relations, and skipped items by reason."""
        per = self.per_review()
        total = {k: sum(p[k] for p in per) for k in ("candidates", "included", "included_final", "excluded", "seeds")}
        return {"reviews": len(self.reviews), **total,
                "articles": len({a.article_id for a in self.articles}), "relations": len(set(self.relations)),
                "skipped": len(self.skipped), "skipped_reasons": dict(Counter(_reason_kind(s.reason)
                                                                              for s in self.skipped))}


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].split(";", 1)[0].strip()


@dataclass
class _Label:
    label: str
    evidence: str | None
    study_id: str | None
    item: str


class ReviewBuilder:
    """Collects one review's setup and labels, then writes its row and relations into a result.

    A candidate labelled twice at the same stage keeps ``included`` if either says so; two different
    source records that resolve to the same article are merged, and the merge is reported."""

    def __init__(self, collection: str, key: str, source_path, *, title=None, background=None,
                 objectives=None, selection_criteria=None, boolean_query=None, review_pmid=None, doi=None):
        self.collection = collection
        self.review_id = f"{collection}:{key}"
        self.source_path = str(source_path)
        self.setup = dict(title=title, background=background, objectives=objectives,
                          selection_criteria=selection_criteria, boolean_query=boolean_query,
                          review_pmid=review_pmid, doi=doi)
        self.labels: dict[tuple[str, str], _Label] = {}
        self.seeds: dict[str, str | None] = {}
        self.skipped: list[Skipped] = []
        self.notes: list[str] = []

    def skip(self, item, reason: str, path=None) -> None:
        self.skipped.append(Skipped(str(item), reason, self.review_id, str(path or self.source_path)))

    def label(self, article_id: str, stage: str, included: bool, *, item=None, evidence: str | None = None,
              study_id: str | None = None) -> None:
        item = str(item or article_id)
        new = _Label(INCLUDED if included else EXCLUDED, evidence, study_id, item)
        prev = self.labels.get((article_id, stage))
        if prev is None:
            self.labels[(article_id, stage)] = new
            return
        if prev.item != item:
            self.skip(item, f"duplicate candidate: same article {article_id} as {prev.item}; merged "
                            f"({prev.label} + {new.label} at {stage})")
        elif prev.label != new.label:
            self.notes.append(f"{self.review_id}: {article_id} labelled both included and excluded at {stage}; "
                              "kept included")
        if new.label == INCLUDED and prev.label != INCLUDED:
            self.labels[(article_id, stage)] = _Label(INCLUDED, new.evidence, new.study_id or prev.study_id, prev.item)

    def seed(self, article_id: str, evidence: str | None = None) -> None:
        self.seeds.setdefault(article_id, evidence)

    def candidate_ids(self) -> set[str]:
        return {aid for aid, _ in self.labels}

    def finish(self, result: ReviewImport) -> None:
        origin = f"review:{self.collection}"
        candidates = self.candidate_ids()
        included = {aid for (aid, _), lab in self.labels.items() if lab.label == INCLUDED}
        final = {aid for (aid, stage), lab in self.labels.items() if lab.label == INCLUDED and stage == FINAL}
        s = self.setup
        result.reviews.append((self.review_id, self.collection, s["title"], s["background"], s["objectives"],
                               s["selection_criteria"], s["boolean_query"], s["review_pmid"], s["doi"],
                               len(candidates), len(included), len(final), self.source_path))
        for (aid, stage), lab in self.labels.items():
            result.relations.append(relation_row(self.review_id, "review", aid, "article", CANDIDATE, origin=origin,
                                                 label=lab.label, stage=stage, evidence=lab.evidence,
                                                 study_id=lab.study_id))
        for aid, evidence in self.seeds.items():
            result.relations.append(relation_row(self.review_id, "review", aid, "article", SEED_RELATION,
                                                 origin=origin, label=SEED, evidence=evidence))
        result.skipped += self.skipped
        result.notes += self.notes
