"""Linker throughput against a synthetic 1M-name dictionary.

Builds a dictionary of ``--names`` concept names (preferred names plus synonyms made of
pseudo-medical words), then links ``--terms`` distinct query terms drawn as: exact names,
synonyms, variants that only normalisation resolves (case, punctuation, plurals, inverted word
order, salt and dosage words) and unknown terms. Reports, as figures and as ratios against a
baseline measured in the same run (a plain Python ``dict`` lookup of lower-cased names, i.e.
exact matching only):

- dictionary build (normalising every name once);
- linking throughput in unique terms per second, wall and per CPU-second (``per core``);
- the fuzzy stage alone on a sample of the terms no key matched.

Run: ``.venv/bin/python benchmarks/bench_linker.py`` (add ``POLARS_MAX_THREADS=1`` to pin polars to
one core; ``--names 200000`` for a quick run).
"""
from __future__ import annotations

import argparse
import os
import random
import time

import polars as pl

from trialpanorama_dagster.ontologies.linker import LinkOptions, OntologyIndex

SYLLABLES = ("ab", "ac", "al", "am", "an", "ar", "ba", "be", "ca", "ce", "ci", "co", "da", "de", "di", "do", "el",
             "en", "er", "fa", "fe", "ga", "ge", "ha", "he", "hy", "id", "il", "in", "ka", "la", "le", "li", "lo",
             "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "ol", "om", "on", "or", "pa", "pe", "pi", "po", "ra",
             "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "ul", "um", "un", "va", "ve", "vi",
             "xa", "za", "zo")
SUFFIXES = ("itis", "osis", "emia", "oma", "pathy", "algia", "mab", "nib", "vir", "pril", "olol", "statin",
            "azole", "cillin", "mycin", "tide", "parin", "sartan", "dipine", "prazole")
HEADS = ("Disease", "Syndrome", "Disorder", "Infection", "Neoplasm", "Deficiency", "Injury", "Failure")
SALTS = ("hydrochloride", "sodium", "mesylate", "sulfate")


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) + rng.choice(SUFFIXES)


def make_dictionary(n_names: int, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    rows, seen, cid = [], set(), 0
    while len(rows) < n_names:
        cid += 1
        base = word(rng).capitalize()
        name = base if rng.random() < 0.5 else f"{base} {rng.choice(HEADS)}"
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        concept = f"X{cid:07d}"
        rows.append((concept, name, "preferred", name))
        for _ in range(rng.randint(0, 2)):
            syn = f"{word(rng).capitalize()} {rng.choice(HEADS)}"
            if syn.lower() not in seen:
                seen.add(syn.lower())
                rows.append((concept, syn, "entry", name))
    rows = rows[:n_names]
    return pl.DataFrame(rows, schema=["concept_id", "term", "term_type", "concept_name"], orient="row").with_columns(
        pl.lit("descriptor").alias("concept_type"), pl.lit("synthetic-1").alias("release"))


def variant(rng: random.Random, name: str) -> str:
    words = name.split()
    kind = rng.randrange(4)
    if kind == 0 and len(words) == 2:
        return f"{words[1]}s, {words[0]}"            # inverted, pluralised
    if kind == 1:
        return f"{name.upper()} {rng.choice(SALTS)}"  # case + salt word
    if kind == 2:
        return f"{name} 10 mg tablet"                 # dosage words
    return name.replace(" ", " - ") + "."             # punctuation


def make_terms(dic: pl.DataFrame, n_terms: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    names = dic["term"].to_list()
    terms: set[str] = set()
    while len(terms) < n_terms:
        r = rng.random()
        name = rng.choice(names)
        if r < 0.45:
            terms.add(name if rng.random() < 0.5 else name.lower())
        elif r < 0.8:
            terms.add(variant(rng, name))
        else:
            terms.add(f"{word(rng)} {word(rng)} unknown")
    return sorted(terms)


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--terms", type=int, default=500_000)
    ap.add_argument("--fuzzy-sample", type=int, default=2_000)
    args = ap.parse_args(argv)
    print(f"polars threads: {pl.thread_pool_size()}  (POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS')})")
    dic, w, _ = timed(lambda: make_dictionary(args.names))
    terms = make_terms(dic, args.terms)
    print(f"dictionary: {dic.height:,} names of {dic['concept_id'].n_unique():,} concepts; "
          f"{len(terms):,} distinct query terms (generated in {w:.1f} s)")

    # baseline: exact lookup of lower-cased names in a Python dict (build + lookups)
    def baseline():
        table = {}
        for cid, name in zip(dic["concept_id"].to_list(), dic["term"].to_list()):
            table.setdefault(name.lower(), cid)
        return sum(1 for t in terms if t.lower() in table)
    base_hits, base_wall, base_cpu = timed(baseline)

    index, build_wall, build_cpu = timed(lambda: OntologyIndex(dic, "drug", options=LinkOptions(fuzzy=False)))
    links, link_wall, link_cpu = timed(lambda: index.link(terms))
    linked = links.filter(pl.col("concept_id").is_not_null())
    by_method = dict(linked.group_by("method").len().iter_rows())

    print(f"\n{'stage':<38}{'wall s':>9}{'cpu s':>9}{'terms/s wall':>15}{'terms/s/core':>15}")
    print(f"{'baseline dict (exact, lower-case)':<38}{base_wall:>9.2f}{base_cpu:>9.2f}"
          f"{len(terms) / base_wall:>15,.0f}{len(terms) / base_cpu:>15,.0f}")
    print(f"{'index build (normalise all names)':<38}{build_wall:>9.2f}{build_cpu:>9.2f}"
          f"{dic.height / build_wall:>15,.0f}{dic.height / build_cpu:>15,.0f}  (names/s)")
    print(f"{'link: exact+synonym+normalised':<38}{link_wall:>9.2f}{link_cpu:>9.2f}"
          f"{len(terms) / link_wall:>15,.0f}{len(terms) / link_cpu:>15,.0f}")
    print(f"\nlinked {linked.height:,}/{len(terms):,} ({linked.height / len(terms):.1%}) by method {by_method}; "
          f"baseline exact hits {base_hits:,} ({base_hits / len(terms):.1%})")
    print(f"link throughput vs baseline: {base_wall / link_wall:.2f}x wall, per core {base_cpu / link_cpu:.2f}x; "
          f"goal 300,000 terms/s/core: {'met' if len(terms) / link_cpu >= 300_000 else 'NOT met'}")

    unmatched = links.filter(pl.col("concept_id").is_null())["term"].to_list()[: args.fuzzy_sample]
    if unmatched:
        fz_index = OntologyIndex(dic.head(200_000), "drug", options=LinkOptions(fuzzy=True))
        _, fz_wall, fz_cpu = timed(lambda: fz_index.link(unmatched))
        print(f"fuzzy stage (200k-name index, {len(unmatched):,} unmatched terms): {len(unmatched) / fz_wall:,.0f} "
              f"terms/s wall, {len(unmatched) / fz_cpu:,.0f} terms/s/core")


if __name__ == "__main__":
    main()
