"""Link free-text terms to one ontology's concepts: exact, synonym, normalised, fuzzy, or NULL + why.

An :class:`OntologyIndex` is built once from a dictionary frame (one row per concept name, as in
the warehouse's ``ontology_terms``) and then links any number of distinct terms with vectorised
joins; only the terms no key matches go to the (optional) fuzzy stage.

Methods, in the order tried:

``exact``       the term's exact key equals a concept's preferred name
``synonym``     ... equals another name of the concept (entry term, synonym, brand name)
``normalised``  the normalised keys are equal (see :mod:`.normalise`)
``fuzzy``       best normalised-key similarity (rapidfuzz) at or above the cut-off, with its score

When a key's best names belong to several concepts the term is left unlinked with reason
``ambiguous: <ids>`` — a collision, never a guess. Preferred names outrank synonyms, and concept
kinds rank by ``concept_rank`` (e.g. MeSH descriptors before supplementary concepts), before a
key counts as ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .fuzzy import FuzzyMatcher
from .normalise import add_keys, all_ascii, exact_key, norm_key

LINK_SCHEMA = {
    "term": pl.String, "norm_term": pl.String, "concept_id": pl.String, "concept_name": pl.String,
    "method": pl.String, "score": pl.Float64, "release": pl.String, "reason": pl.String,
}


@dataclass(frozen=True)
class LinkOptions:
    fuzzy: bool = True
    fuzzy_cutoff: float = 90.0
    fuzzy_min_length: int = 6
    max_term_length: int = 300


class OntologyIndex:
    """Keys -> concepts for one ontology and one domain (condition or drug normalisation)."""

    def __init__(self, entries: pl.DataFrame, domain: str, concept_rank: dict[str, int] | None = None,
                 options: LinkOptions = LinkOptions()):
        """``entries``: columns concept_id, term, term_type, concept_name, concept_type, release."""
        self.domain = domain
        self.options = options
        rank = concept_rank or {}
        e = (entries.lazy()
             .filter(pl.col("term").is_not_null() & (pl.col("term").str.len_chars() > 0))
             .with_columns(
                 (pl.when(pl.col("term_type") == "preferred").then(0).otherwise(1) * 100
                  + pl.col("concept_type").cast(pl.String).replace_strict(rank, default=50, return_dtype=pl.Int32))
                 .alias("rank"))
             .collect())
        e = add_keys(e, "term", domain)
        self.size = e.height
        self.exact = self._resolve(e, "exact_key", pl.when(pl.col("term_type") == "preferred")
                                    .then(pl.lit("exact")).otherwise(pl.lit("synonym")))
        self.norm = self._resolve(e, "norm_key", pl.lit("normalised"))
        self._fuzzy: FuzzyMatcher | None = None

    @property
    def fuzzy(self) -> FuzzyMatcher | None:
        """The fuzzy matcher over the normalised keys, built on first use (only terms that no key
        matched need it, and most batches have few or none)."""
        if self._fuzzy is None and self.options.fuzzy:
            self._fuzzy = FuzzyMatcher(self.norm["norm_key"].to_list())
        return self._fuzzy

    @staticmethod
    def _resolve(e: pl.DataFrame, key: str, method: pl.Expr) -> pl.DataFrame:
        """One row per key: the concept (NULL when the best names belong to several), the method
        a match on this key means, or the ``ambiguous`` reason. Linking then only joins scalars."""
        best = e.group_by(key).agg(pl.col("rank").min())
        grouped = (e.join(best, on=[key, "rank"])
                   .sort("concept_id")
                   .group_by(key, maintain_order=False)
                   .agg(pl.col("concept_id").unique(maintain_order=True).alias("ids"),
                        pl.col("concept_name").first(), pl.col("term_type").first(),
                        pl.col("release").first())
                   .filter(pl.col(key) != ""))
        one = pl.col("ids").list.len() == 1
        return grouped.select(
            key, pl.when(one).then(pl.col("ids").list.first()).alias("concept_id"),
            pl.when(one).then(pl.col("concept_name")).alias("concept_name"),
            pl.when(one).then(method).alias("method"), pl.col("release"),
            pl.when(~one).then(pl.lit("ambiguous: ") + pl.col("ids").list.head(5).list.join(", ")).alias("reason"))

    def link(self, terms: list[str] | pl.Series) -> pl.DataFrame:
        """Link distinct terms; one output row per input term (duplicates collapse)."""
        t = pl.DataFrame({"term": pl.Series(terms, dtype=pl.String)}).unique(maintain_order=True)
        t = t.filter(pl.col("term").is_not_null()).with_columns(exact_key(pl.col("term")).alias("exact_key"))
        out = t.join(self.exact, on="exact_key", how="left").with_columns(pl.col("exact_key").alias("norm_key"))
        matched = pl.col("concept_id").is_not_null() | pl.col("reason").is_not_null()
        done = out.filter(matched)
        # only terms no exact key matched pay for normalisation
        rest = out.filter(~matched)
        rest = rest.select("term", "exact_key",
                           norm_key(pl.col("term"), self.domain, all_ascii(rest["term"])).alias("norm_key"))
        nm = rest.join(self.norm, on="norm_key", how="left").select(done.columns)
        linked = pl.concat([done, nm]).with_columns(pl.lit(None, dtype=pl.Float64).alias("score"))
        result = self._fuzzy_stage(linked)
        # norm_term: the key the link was made on (exact key for exact/synonym, else normalised key)
        linked_ = pl.col("concept_id").is_not_null()
        return result.select(
            pl.col("term"), pl.col("norm_key").alias("norm_term"), "concept_id",
            pl.when(linked_).then(pl.col("concept_name")).alias("concept_name"), "method", "score",
            pl.when(linked_).then(pl.col("release")).alias("release"), "reason")

    def _fuzzy_stage(self, linked: pl.DataFrame) -> pl.DataFrame:
        open_ = linked.filter(pl.col("concept_id").is_null() & pl.col("reason").is_null())
        if open_.is_empty():
            return linked
        opts = self.options
        updates = {}
        for term, key in open_.select("term", "norm_key").iter_rows():
            if not key:
                updates[term] = (None, None, None, "no letters or digits after normalisation")
                continue
            if len(key) > opts.max_term_length:
                updates[term] = (None, None, None, f"longer than {opts.max_term_length} characters")
                continue
            if not opts.fuzzy or len(key) < opts.fuzzy_min_length:
                updates[term] = (None, None, None, "no exact, synonym or normalised match"
                                 + (" (too short for fuzzy)" if opts.fuzzy else ""))
                continue
            hit, top = self.fuzzy.best(key, opts.fuzzy_cutoff)
            if hit is None:
                what = f"best fuzzy score {top:.1f} < {opts.fuzzy_cutoff:g}" if top is not None else "no fuzzy candidate"
                updates[term] = (None, None, None, f"no match ({what})")
            else:
                updates[term] = (hit[0], "fuzzy", hit[1], None)
        fz = pl.DataFrame(
            [(k, *v) for k, v in updates.items()],
            schema={"term": pl.String, "fz_key": pl.String, "fz_method": pl.String,
                    "fz_score": pl.Float64, "fz_reason": pl.String}, orient="row")
        keys = fz.filter(pl.col("fz_key").is_not_null()).join(
            self.norm.select("norm_key", pl.col("concept_id").alias("fz_id"), "concept_name", "release",
                             pl.col("reason").alias("amb")),
            left_on="fz_key", right_on="norm_key", how="left")
        fz = fz.join(keys.select("term", "fz_id", "concept_name", "release", "amb"), on="term", how="left")
        fz = fz.with_columns(pl.when(pl.col("amb").is_not_null()).then(pl.lit("fuzzy match ") + pl.col("amb"))
                             .otherwise(pl.col("fz_reason")).alias("fz_reason"))
        merged = linked.join(fz.select("term", "fz_id", "fz_method", "fz_score", "fz_reason",
                                       pl.col("concept_name").alias("fz_name"),
                                       pl.col("release").alias("fz_release")), on="term", how="left")
        has = pl.col("fz_id").is_not_null()
        return merged.with_columns(
            pl.coalesce("concept_id", "fz_id").alias("concept_id"),
            pl.when(has).then(pl.col("fz_name")).otherwise(pl.col("concept_name")).alias("concept_name"),
            pl.when(has).then(pl.col("fz_method")).otherwise(pl.col("method")).alias("method"),
            pl.when(has).then(pl.col("fz_score")).otherwise(pl.col("score")).alias("score"),
            pl.when(has).then(pl.col("fz_release")).otherwise(pl.col("release")).alias("release"),
            pl.when(has).then(None).otherwise(pl.coalesce("reason", "fz_reason")).alias("reason"),
        ).drop("fz_id", "fz_method", "fz_score", "fz_reason", "fz_name", "fz_release")
