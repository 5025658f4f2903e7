"""Synthetic PubMed-like articles in a warehouse file, for the search benchmark.

``generate(db, n_docs)`` writes ``n_docs`` rows to ``literature`` (PMIDs from 10,000,001) and a
MeSH-like tree of headings to ``ontology_concepts`` (so ``[mh]`` explodes at scale). Words follow
Zipf's law (rank r drawn as ``V ** u``, i.e. P(r) ∝ 1/r) over a vocabulary of function words,
common medical words and pseudo-medical words; titles have 6–18 words, 75 % of articles have an
abstract of 80–320 words (PubMed's mean is about 200), each has 5–15 headings (Zipf over the
tree), one to three publication types, a journal and a year. Deterministic for a seed.

    python benchmarks/generate_literature.py --docs 1600000 --db benchmarks/out/search_1600000.duckdb
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trialpanorama_dagster.warehouse.db import connect  # noqa: E402

FUNCTION = ("the of and in to a with for was were is by on as at from that or this be are an not patients "
            "after than we between these which both during have had no all more but there been using its").split()
MEDICAL = ("treatment study group randomized trial placebo clinical therapy results outcome efficacy safety dose "
           "control controlled significant risk patients children adults women men mortality survival disease "
           "cancer tumor infection vaccine vaccination chronic acute pain heart failure lung liver renal kidney "
           "diabetes insulin blood pressure hypertension stroke cardiac surgery surgical postoperative follow "
           "months weeks years baseline primary secondary endpoint hazard ratio confidence interval analysis "
           "cohort prospective retrospective observational systematic review meta evidence adverse events "
           "pharmacokinetics plasma concentration oral intravenous injection antibiotic antibodies immune "
           "inflammation inflammatory receptor inhibitor expression cells cell gene protein levels serum "
           "reduction increase decreased improved compared versus associated quality life hospital emergency "
           "care intensive prevention screening diagnosis diagnostic sensitivity specificity imaging mri").split()
SYLLABLES = ("ab ac al am an ar ba be ca ce ci co da de di do el en er fa fe ga ge ha he hy id il in ka la le li "
             "lo ma me mi mo na ne ni no ol om on or pa pe pi po ra re ri ro sa se si so ta te ti to ul um un va "
             "ve vi xa za zo").split()
SUFFIXES = ("itis osis emia oma pathy algia mab nib vir pril olol statin azole cillin mycin tide parin sartan "
            "dipine prazole ine ase gen ic al ous").split()
PUB_TYPES = (("Journal Article", 1.0), ("Randomized Controlled Trial", 0.12), ("Clinical Trial", 0.08),
             ("Review", 0.15), ("Comparative Study", 0.1), ("Multicenter Study", 0.05), ("Case Reports", 0.08))
CATEGORIES = "ABCDEFGHIJKLMNVZ"


def vocabulary(size: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    words = list(dict.fromkeys(FUNCTION + MEDICAL))
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) + rng.choice(SUFFIXES)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def mesh_tree(n: int, vocab: list[str], seed: int = 11) -> list[tuple[str, str, list[str]]]:
    """(concept_id, name, tree numbers): 16 categories, every heading under an earlier one."""
    rng = random.Random(seed)
    rows, names = [], set()
    numbers: list[str] = []
    children: dict[str, int] = {}
    for i in range(n):
        while True:
            words = [rng.choice(vocab[200:20_000]).capitalize() for _ in range(rng.randint(1, 3))]
            name = ", ".join(words) if rng.random() < 0.3 else " ".join(words)
            if name not in names:
                names.add(name)
                break
        parent = CATEGORIES[i] if i < len(CATEGORIES) else rng.choice(numbers)
        children[parent] = children.get(parent, 0) + 1
        tn = f"{parent}{children[parent]:02d}" if i < len(CATEGORIES) else f"{parent}.{children[parent]:03d}"
        numbers.append(tn)
        rows.append((f"S{i:06d}", name, [tn]))
    return rows


def _zipf(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    return np.minimum((n ** rng.random(size)).astype(np.int64) - 1, n - 1)


def generate(db: Path, n_docs: int, seed: int = 7, vocab_size: int = 60_000, headings: int = 8_000,
             batch: int = 50_000) -> dict:
    t0 = time.perf_counter()
    vocab = vocabulary(vocab_size, seed)
    words = np.array(vocab, dtype=object)
    tree = mesh_tree(headings, vocab, seed + 4)
    heading_names = np.array([name for _, name, _ in tree], dtype=object)
    journals = np.array([f"Journal of {w.capitalize()} {v.capitalize()}" for w, v in
                         zip(vocab[200:3200], vocab[3200:6200])], dtype=object)
    con = connect(db)
    con.execute("DELETE FROM literature")
    con.execute("DELETE FROM ontology_concepts WHERE ontology = 'mesh'")
    con.register("tree_rows", pa.table({"concept_id": [c for c, _, _ in tree], "name": [n for _, n, _ in tree],
                                        "tree_numbers": [t for _, _, t in tree]}))
    con.execute("INSERT INTO ontology_concepts (ontology, concept_id, name, concept_type, parents, tree_numbers, "
                "obsolete) SELECT 'mesh', concept_id, name, 'topical', [], tree_numbers, false FROM tree_rows")
    con.unregister("tree_rows")
    rng = np.random.default_rng(seed)
    for start in range(0, n_docs, batch):
        n = min(batch, n_docs - start)
        t_len = rng.integers(6, 19, n)
        a_len = np.where(rng.random(n) < 0.75, rng.integers(80, 321, n), 0)
        m_len = rng.integers(5, 16, n)
        t_words = words[_zipf(rng, int(t_len.sum()), vocab_size)]
        a_words = words[_zipf(rng, int(a_len.sum()), vocab_size)]
        m_names = heading_names[_zipf(rng, int(m_len.sum()), headings)]
        t_at, a_at, m_at = (np.concatenate([[0], np.cumsum(x)]) for x in (t_len, a_len, m_len))
        titles = [" ".join(t_words[t_at[i]:t_at[i + 1]]).capitalize() + "." for i in range(n)]
        abstracts = [" ".join(a_words[a_at[i]:a_at[i + 1]]) + "." if a_len[i] else None for i in range(n)]
        mesh = [sorted(set(m_names[m_at[i]:m_at[i + 1]])) for i in range(n)]
        draws = rng.random((n, len(PUB_TYPES)))
        pts = [[name for j, (name, p) in enumerate(PUB_TYPES) if draws[i, j] < p] for i in range(n)]
        pmids = [str(10_000_001 + start + i) for i in range(n)]
        table = pa.table({
            "article_id": [f"PMID:{p}" for p in pmids], "pmid": pmids, "title": titles, "abstract": abstracts,
            "journal": journals[_zipf(rng, n, len(journals))].tolist(),
            "year": rng.integers(1970, 2025, n).tolist(), "publication_types": pts, "mesh_terms": mesh,
            "source": ["synthetic"] * n})
        con.register("batch_rows", table)
        con.execute("INSERT INTO literature (article_id, pmid, title, abstract, journal, year, publication_types, "
                    "mesh_terms, source) SELECT * FROM batch_rows")
        con.unregister("batch_rows")
    con.execute("CHECKPOINT")
    con.close()
    return {"docs": n_docs, "vocabulary": vocab_size, "headings": headings, "seconds": time.perf_counter() - t0}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1_600_000)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    print(generate(args.db, args.docs, args.seed))


if __name__ == "__main__":
    main()
