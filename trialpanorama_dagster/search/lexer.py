"""Tokens of a PubMed (or Ovid MEDLINE) query line, and the field-tag tables.

Token kinds: ``(`` ``)``, ``PHRASE`` (quoted; straight or curly quotes), ``TAG`` (a PubMed
``[tiab]``: value = (fields, slop)), ``OVID`` (an Ovid field suffix ``.ti,ab.``: value = fields),
``HEAD`` (the ``/`` that ends an Ovid subject heading), ``OP`` (AND/OR/NOT, any case), ``ADJ``
(Ovid ``adj``/``adjN``: value = N), ``REF`` (``#3``), ``COMBINE`` (Ovid ``or/3-6``: value =
(op, line numbers)) and ``WORD``. Ovid ``$`` truncation (``dermat$``, ``dermat$2``) becomes ``*``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .nodes import QueryError

# PubMed tags (lower case, spaces collapsed) -> canonical fields.
TAGS: dict[str, tuple[str, ...]] = {
    "tiab": ("tiab",), "title/abstract": ("tiab",), "ti": ("ti",), "title": ("ti",), "ab": ("ab",),
    "abstract": ("ab",), "tw": ("tw",), "text word": ("tw",), "textword": ("tw",), "all": ("all",),
    "all fields": ("all",), "mh": ("mh",), "mesh": ("mh",), "mesh terms": ("mh",), "mesh term": ("mh",),
    "mh:noexp": ("mh_noexp",), "mesh:noexp": ("mh_noexp",), "mesh terms:noexp": ("mh_noexp",),
    "majr": ("majr",), "mesh major topic": ("majr",), "majr:noexp": ("mh_noexp",),
    "mesh major topic:noexp": ("mh_noexp",), "sh": ("sh",), "subheading": ("sh",), "sh:noexp": ("sh",),
    "pt": ("pt",), "publication type": ("pt",), "ptyp": ("pt",), "nm": ("nm",), "supplementary concept": ("nm",),
    "substance name": ("nm",), "pa": ("nm",), "pharmacological action": ("nm",), "rn": ("nm",),
    "ta": ("ta",), "journal": ("ta",), "jour": ("ta",), "ot": ("kw",), "other term": ("kw",), "kw": ("kw",),
    "dp": ("dp",), "pdat": ("dp",), "publication date": ("dp",), "edat": ("dp",), "entrez date": ("dp",),
    "crdt": ("dp",), "create date": ("dp",), "la": ("la",), "lang": ("la",), "language": ("la",),
    "au": ("au",), "author": ("au",), "ad": ("ad",), "affiliation": ("ad",), "sb": ("sb",), "filter": ("sb",),
    "subset": ("sb",), "si": ("si",), "secondary source id": ("si",), "gr": ("gr",), "pl": ("pl",),
    "pg": ("pg",), "vi": ("vi",), "ip": ("ip",), "lr": ("lr",),
}
# Ovid MEDLINE field codes -> canonical fields (.sh. is Ovid's subject heading, i.e. MeSH).
OVID: dict[str, tuple[str, ...]] = {
    "ti": ("ti",), "ab": ("ab",), "tw": ("tw",), "mp": ("tw",), "kw": ("kw",), "kf": ("kw",), "ot": ("kw",),
    "hw": ("kw",), "sh": ("mh_noexp",), "pt": ("pt",), "fs": ("fs",), "nm": ("nm",), "rn": ("nm",),
    "jn": ("ta",), "jx": ("ta",), "jw": ("ta",), "la": ("la",), "au": ("au",), "in": ("ad",), "ed": ("dp",),
    "yr": ("dp",), "dp": ("dp",), "af": ("all",), "tx": ("all",),
}
_OVID_SUFFIX = re.compile(r"^(?P<stem>.*?)\.(?P<codes>[a-z]{2}(?:,[a-z]{2})*)\.?$", re.I)
_COMBINE = re.compile(r"^(or|and)/(\d[\d,\s-]*)$", re.I)
_ADJ = re.compile(r"^(adj|near)(\d*)$", re.I)
_OPS = {"and": "AND", "or": "OR", "not": "NOT"}
OPEN_QUOTES = '"“”„'
CLOSE_QUOTES = '"”“'
_BREAK = set("()[]") | set(OPEN_QUOTES)


@dataclass(frozen=True)
class Token:
    kind: str
    value: object
    pos: int
    end: int


def tag_fields(raw: str, pos: int, text: str) -> tuple[tuple[str, ...], int]:
    """A PubMed tag's content -> (fields, proximity slop)."""
    name = " ".join(raw.lower().split())
    slop = 0
    m = re.match(r"^(.*?):~(\d+)$", name)
    if m:
        name, slop = m.group(1).strip(), int(m.group(2))
    if name not in TAGS:
        raise QueryError(f"unknown field tag [{raw}]", pos, text=text)
    return TAGS[name], slop


def _ovid_fields(codes: str) -> tuple[str, ...] | None:
    out: list[str] = []
    for code in codes.lower().split(","):
        if code not in OVID:
            return None
        out += [f for f in OVID[code] if f not in out]
    return tuple(out)


def _word_tokens(word: str, pos: int, text: str) -> list[Token]:
    end = pos + len(word)
    low = word.lower()
    if low in _OPS:
        return [Token("OP", _OPS[low], pos, end)]
    if re.fullmatch(r"#\d+", word):
        return [Token("REF", int(word[1:]), pos, end)]
    m = _COMBINE.match(word)
    if m:
        lines: list[int] = []
        for part in re.split(r"[,\s]+", m.group(2).strip()):
            if not part:
                continue
            lo, _, hi = part.partition("-")
            if not lo.isdigit() or (hi and not hi.isdigit()):
                raise QueryError(f"bad line range {part!r} in {word!r}", pos, text=text)
            lines += list(range(int(lo), int(hi or lo) + 1))
        return [Token("COMBINE", (_OPS[m.group(1).lower()], tuple(lines)), pos, end)]
    m = _ADJ.match(word)
    if m:
        return [Token("ADJ", int(m.group(2) or 1), pos, end)]
    word = re.sub(r"\$\d*", "*", word)
    m = _OVID_SUFFIX.match(word)
    if m and (fields := _ovid_fields(m.group("codes"))) is not None:
        stem = m.group("stem")
        suffix = Token("OVID", fields, pos + len(stem), end)
        return ([Token("WORD", stem, pos, pos + len(stem))] if stem else []) + [suffix]
    if word.endswith("/") and len(word) > 1:
        return [Token("WORD", word[:-1], pos, end - 1), Token("HEAD", "/", end - 1, end)]
    if word == "/":
        return [Token("HEAD", "/", pos, end)]
    return [Token("WORD", word, pos, end)]


def tokenize(text: str, base: int = 0, full: str | None = None) -> list[Token]:
    """Tokens of ``text``; positions are offsets in ``full`` (the whole query), ``text`` starting
    at ``base``."""
    full = text if full is None else full
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(Token(c, c, base + i, base + i + 1))
            i += 1
        elif c in OPEN_QUOTES:
            j = next((k for k in range(i + 1, n) if text[k] in CLOSE_QUOTES), -1)
            if j < 0:
                raise QueryError("unterminated quote", base + i, text=full)
            out.append(Token("PHRASE", re.sub(r"\$\d*", "*", text[i + 1:j]), base + i, base + j + 1))
            i = j + 1
        elif c == "[":
            j = text.find("]", i + 1)
            if j < 0:
                raise QueryError("unterminated field tag '['", base + i, text=full)
            fields, slop = tag_fields(text[i + 1:j], base + i, full)
            out.append(Token("TAG", (fields, slop), base + i, base + j + 1))
            i = j + 1
        elif c == "]":
            raise QueryError("']' without '['", base + i, text=full)
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _BREAK:
                j += 1
            out += _word_tokens(text[i:j], base + i, full)
            i = j
    return out
