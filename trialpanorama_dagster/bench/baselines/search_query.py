"""A keyword Boolean query for study search, built from the review setup's own words.

Rule, for one record:

1. Facts: :func:`..tasks.review_facts.title_facts` read on the background's first sentence (the
   review title when the record has no background of its own) and the selection criteria gives the
   intervention (``X versus Y``) and the population, when it can.
2. Abbreviations defined anywhere in the setup (``inhaled corticosteroids (ICS)``: the words before
   the parenthesis, as many as the abbreviation has capitals, cut at a generic word) become synonyms
   of their phrase; parentheses are then dropped.
3. Phrases are runs of content words between punctuation and generic words (:data:`.base.STOP_WORDS`,
   :data:`GENERIC`, adverbs in -ly, words under three letters, and the words that ``fit`` found in
   at least 30% of the train setups when it saw ten or more); a phrase keeps its last three words.
4. Concepts, in order, at most :data:`MAX_CONCEPTS`, none sharing a word with an earlier one:
   the intervention (each of X, Y: its first phrase of two words or with a word of six letters or
   more, else its first phrase; the alternatives OR-ed in one group), then the population (the same
   choice), then the phrases of the objectives, the population and intervention parts of the
   criteria and the title sentence, best first: in more of these texts, then the largest
   :meth:`KeywordQuery.specificity` of its words (a rounded IDF over the train setups), then earlier.
   A possessive ``'s`` is dropped; a word may hold ``-``, ``'`` and ``/`` (``CDK4/6``).
5. A concept's OR group: the phrase (its last word truncated to ``stem*`` when a plural of five
   letters or more), for a three-word phrase also its last two words, its abbreviation, and — with
   a warehouse connection — up to three other names of the ontology concept named by the phrase
   (``ontology_terms``).
6. The query is the groups joined by AND, each term a quoted ``[tiab]`` phrase, e.g.
   ``("inhaled corticosteroid*"[tiab] OR "ICS"[tiab]) AND ("bronchiectasis"[tiab])``; with no
   concept at all it is :data:`FALLBACK_QUERY`. Output: ``{"query": ...}``.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter

from ...tasks.review_data import Review
from ...tasks.review_facts import title_facts
from .base import STOP_WORDS, Baseline, words

MAX_CONCEPTS = 2
MAX_SYNONYMS = 3
GENERIC_DF = 0.3
FALLBACK_QUERY = '("randomized"[tiab] OR "randomised"[tiab] OR "trial"[tiab])'
GENERIC = frozenset("""towards toward understanding estimating estimate estimates extent role prevalence incidence
quantity quality setting settings time times beyond applied apply synthesize synthesise existing literature seeks
seek clarify aimed aim recently recent administered administration comparable pre post delayed immediate lower
higher high low initial current new novel potential possible available optimal better best good delivering deliver
challenges facilitators barriers catalogue tools variables support sustainability utilisation utilization preventive
downsides perspective perspectives context level levels data report reports reported reporting following undergoing
receiving received quantitative qualitative relevant certain various several multiple overall general common
direct threat additional influence association associations relationship factors factor characteristics
assessment findings results conducted performed aimed sought older near end alone only plus combined combination
regimen regimens options option role roles group groups versus clinicians clinician practice practices health
healthcare medical clinical number numbers include inclusion exclusion considered consider eligible published
unpublished decades years year months weeks days remain remains unclear unknown healthy work
placebo-controlled double-blind open-label single-arm meta-regression advanced""".split())
_ABBR = re.compile(r"([A-Za-z][A-Za-z0-9\-' ]{2,120}?)\s*\(([A-Za-z][A-Za-z0-9\-+/]{1,11})\)")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\-/][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-'/ ]*$")
IDF_PRIOR = 5.0
_LABELS = re.compile(r"(?:^|\n|\s)(Population|Types of participants|Participants|Interventions?|Types of interventions"
                     r"|Comparators?|Comparisons?|Outcomes?|Types of outcome measures|Types of studies|Study design)"
                     r"\s*:", re.I)


def criteria_parts(criteria: str | None) -> dict[str, str]:
    """Labelled parts of the selection criteria: {"population" | "intervention" | ...: text}."""
    text = criteria or ""
    marks = list(_LABELS.finditer(text))
    out: dict[str, str] = {}
    for m, nxt in zip(marks, marks[1:] + [None]):
        label = m.group(1).lower()
        key = ("population" if ("partic" in label or "popul" in label) else
               "intervention" if "interv" in label else label)
        value = text[m.end():nxt.start() if nxt else len(text)].strip()
        if value and key not in out:
            out[key] = value
    return out


def title_sentence(background: str | None) -> str:
    """The background's first sentence, without a leading "Background:"-like heading."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z])|\n", (background or "").strip(), maxsplit=1)[0]
    return re.sub(r"^(?:background|context|objectives?|introduction|purpose)(?:\s*(?:and|&)\s*purpose)?\s*[:.]\s*",
                  "", first, flags=re.I)


def is_generic(word: str, stop: frozenset) -> bool:
    return len(word) < 3 or word in stop or (len(word) >= 6 and word.endswith("ly"))


def abbreviations(text: str, stop: frozenset) -> dict[str, str]:
    """{phrase (lower case): abbreviation} for ``words (ABBR)`` definitions in a text (rule 2)."""
    out: dict[str, str] = {}
    for m in _ABBR.finditer(text):
        abbr = m.group(2)
        caps = sum(ch.isupper() for ch in abbr)
        if caps < 2:
            continue
        taken: list[str] = []
        for w in reversed(m.group(1).split()):
            if is_generic(w.lower(), stop) or len(taken) == min(caps, 5):
                break
            taken.insert(0, w.lower())
        if taken and abbr.lower() not in taken:
            out.setdefault(" ".join(taken), abbr)
    return out


def phrases(text: str, stop: frozenset) -> list[str]:
    """Runs of content words (rule 3), in order of appearance, each at most its last three words."""
    out, run = [], []
    for tok in _TOKEN.findall(re.sub(r"\([^)]*\)", " , ", text or "")) + ["."]:
        low = re.sub(r"'s$", "", tok.lower())
        if tok[0].isalpha() and not is_generic(low, stop):
            run.append(low)
            continue
        if run and " ".join(run[-3:]) not in out:
            out.append(" ".join(run[-3:]))
        run = []
    return out


def head_phrase(text: str | None, stop: frozenset) -> str | None:
    """The first phrase of two words or with a word of six letters or more, else the first phrase."""
    found = phrases(text or "", stop)
    return next((p for p in found if " " in p or max(map(len, p.split())) >= 6), found[0] if found else None)


def truncated(phrase: str) -> str:
    """The phrase with a plural last word of five letters or more truncated to ``stem*``."""
    head, _, last = phrase.rpartition(" ")
    if len(last) >= 5 and last.endswith("s") and not last.endswith(("ss", "us", "is", "ous")):
        last = last[:-1] + "*"
    return f"{head} {last}".strip()


class KeywordQuery(Baseline):
    name = "keyword-query"
    task = "study_search"

    def __init__(self, max_concepts: int = MAX_CONCEPTS):
        self.max_concepts = max_concepts
        self.df: Counter = Counter()
        self.n_docs = 0
        self.stop = STOP_WORDS | GENERIC
        self.con = None
        self._synonyms: dict[str, list[str]] = {}

    def fit(self, train: list[dict], con=None) -> "KeywordQuery":
        self.df = Counter()
        for r in train:
            self.df.update(set(words(" ".join(str(v or "") for v in (r.get("inputs") or {}).values()))))
        self.n_docs = len(train)
        generic = {w for w, n in self.df.items() if n >= GENERIC_DF * self.n_docs} if self.n_docs >= 10 else set()
        self.stop = STOP_WORDS | GENERIC | frozenset(generic)
        self.con, self._synonyms = con, {}
        return self

    def specificity(self, word: str) -> int:
        """The word's IDF over the train setups with a prior of :data:`IDF_PRIOR` documents, rounded
        down: words rarer than a handful of train setups tie, whatever the train size."""
        return math.floor(math.log((1 + self.n_docs) / (1 + IDF_PRIOR + self.df.get(word, 0))))

    def synonyms(self, phrase: str) -> list[str]:
        """Other names of the ontology concept named ``phrase`` (needs the fit connection)."""
        if self.con is None:
            return []
        if phrase not in self._synonyms:
            try:
                rows = self.con.execute(
                    "SELECT DISTINCT lower(t.term) FROM ontology_terms t JOIN (SELECT DISTINCT ontology, concept_id "
                    "FROM ontology_terms WHERE lower(term) = ?) c USING (ontology, concept_id) "
                    "WHERE coalesce(t.term_type, '') NOT LIKE 'label@%'", [phrase]).fetchall()
            except Exception:          # a closed or foreign connection: no synonyms from now on
                self.con = None
                return []
            names = sorted({r[0] for r in rows if r[0] and r[0] != phrase and _SAFE.match(r[0]) and len(r[0]) <= 40
                            and len(r[0].split()) <= 4}, key=lambda s: (len(s), s))
            self._synonyms[phrase] = names[:MAX_SYNONYMS]
        return self._synonyms[phrase]

    def _group(self, alternatives: list[str], abbr: dict[str, str]) -> list[str]:
        terms: list[str] = []

        def add(term: str | None) -> None:
            if term and _SAFE.match(term.rstrip("*")) and term.lower() not in (t.lower() for t in terms):
                terms.append(term)
        for phrase in alternatives:
            add(truncated(phrase))
            if phrase.count(" ") == 2:
                add(truncated(phrase.split(" ", 1)[1]))
            add(next((v for k, v in abbr.items() if k.endswith(phrase) or phrase.endswith(k)), None))
            for name in self.synonyms(phrase):
                add(name)
        return terms

    def concepts(self, inputs: dict) -> list[list[str]]:
        """The OR groups of the query (rules 1-5), each a list of unquoted terms."""
        criteria = str(inputs.get("selection criteria") or "")
        title = title_sentence(str(inputs.get("background") or ""))
        facts = title_facts(Review("", "", title, None, None, criteria, None, None))
        parts = criteria_parts(criteria)
        texts = [str(inputs.get("objectives") or ""), parts.get("population", ""), parts.get("intervention", ""), title]
        abbr: dict[str, str] = {}
        for t in texts + [facts.intervention or "", facts.population or ""]:
            for k, v in abbreviations(t, self.stop).items():
                abbr.setdefault(k, v)
        candidates: list[list[str]] = []
        if facts.intervention:
            alts = [head_phrase(x, self.stop) for x in re.split(r"\s+(?:versus|vs\.?)\s+", facts.intervention)]
            candidates.append([a for a in dict.fromkeys(alts) if a])
        if facts.population:
            candidates.append([p for p in [head_phrase(facts.population, self.stop)] if p])
        found = list(dict.fromkeys(p for t in texts for p in phrases(t, self.stop)))
        lowered = [" ".join(words(t)) for t in texts]
        order = sorted(range(len(found)), key=lambda i: (-sum(found[i] in t for t in lowered),
                                                         -max(self.specificity(w) for w in found[i].split()), i))
        candidates += [[found[i]] for i in order]
        groups, used = [], set()
        for alts in candidates:
            alts = [a for a in alts if not used & set(a.split())]
            if not alts:
                continue
            group = self._group(alts, abbr)
            used |= {w.rstrip("*") for t in group for w in t.lower().split()} | {w for a in alts for w in a.split()}
            groups.append(group)
            if len(groups) == self.max_concepts:
                break
        return [g for g in groups if g]

    def query(self, record: dict) -> str:
        groups = self.concepts(record.get("inputs") or {})
        if not groups:
            return FALLBACK_QUERY
        return " AND ".join("(" + " OR ".join(f'"{t}"[tiab]' for t in g) + ")" for g in groups)

    def predict(self, record: dict) -> str:
        return json.dumps({"query": self.query(record)}, ensure_ascii=False)
