"""The query AST: terms, boolean nodes and proximity, plus the one error the parser raises.

A ``Term`` is one word or phrase restricted to a set of canonical fields (``FIELDS``); an empty
set means "no tag" (PubMed's all fields: title, abstract, keywords, MeSH, journal). Nodes are
frozen dataclasses, so equal queries compare equal, and ``str(node)`` renders a fully
parenthesised PubMed form (used by the tests to check precedence).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Canonical fields. Index-backed: ti, ab, tiab, tw, all, mh (exploded headings), mh_noexp, majr,
# pt, kw (keywords, conditions, interventions, heading words), nm (substances: text words), ta
# (journal), dp (year range). Known to PubMed/Ovid but not held by the local index, so ignored
# with a warning: sh (subheadings), la, au, ad, sb, si, fs.
INDEXED_FIELDS = frozenset({"ti", "ab", "tiab", "tw", "all", "mh", "mh_noexp", "majr", "pt", "kw", "nm",
                            "ta", "dp"})
IGNORED_FIELDS = frozenset({"sh", "la", "au", "ad", "sb", "si", "fs", "gr", "pl", "pg", "vi", "ip", "lr"})
FIELDS = INDEXED_FIELDS | IGNORED_FIELDS
WILDCARD = "*"


class QueryError(ValueError):
    """A query the parser cannot read: ``position`` is the character offset in the query text
    (``line`` the 1-based line of a multi-line search strategy, else None)."""

    def __init__(self, message: str, position: int = 0, line: int | None = None, text: str | None = None):
        self.message, self.position, self.line = message, max(0, position), line
        where = f"at position {self.position}" + (f" (line {line})" if line else "")
        detail = ""
        if text is not None:
            start = max(0, self.position - 30)
            snippet = text[start:self.position + 30].replace("\n", " ")
            detail = f"\n  {snippet}\n  {' ' * (self.position - start)}^"
        super().__init__(f"{message} {where}{detail}")


@dataclass(frozen=True)
class Term:
    """A word or phrase. ``text`` keeps ``*`` for truncation; ``phrase`` is True for quoted or
    multi-word terms; ``slop`` > 0 is PubMed proximity (``"a b"[tiab:~2]``)."""
    text: str
    fields: tuple[str, ...] = ()
    phrase: bool = False
    slop: int = 0
    pos: int = field(default=0, compare=False)

    @property
    def truncated(self) -> bool:
        return WILDCARD in self.text

    def __str__(self) -> str:
        body = f'"{self.text}"' if self.phrase or " " in self.text else self.text
        tag = ",".join(self.fields)
        if self.slop:
            tag += f":~{self.slop}"
        return f"{body}[{tag}]" if tag else body


@dataclass(frozen=True)
class And:
    items: tuple

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Or:
    items: tuple

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Not:
    """``include NOT exclude``; ``include`` None means every document (a leading NOT)."""
    include: object
    exclude: object

    def __str__(self) -> str:
        return f"({self.include if self.include is not None else '*'} NOT {self.exclude})"


@dataclass(frozen=True)
class Near:
    """Ovid ``left adjN right``: a word of each side within ``distance`` words, in either order.
    Both sides are terms or ORs of terms (checked by the parser)."""
    left: object
    right: object
    distance: int

    def __str__(self) -> str:
        return f"({self.left} ADJ{self.distance} {self.right})"


@dataclass(frozen=True)
class ParsedQuery:
    """The parser's result: the query tree, the query text and what was read loosely
    (limits dropped, fields the local index does not hold)."""
    node: object
    text: str
    warnings: tuple[str, ...] = ()
    lines: int = 1

    def __str__(self) -> str:
        return str(self.node)


def combine(cls, left, right):
    """``left OP right`` with same-operator chains flattened (PubMed reads left to right)."""
    items = (left.items if isinstance(left, cls) else (left,)) + (right.items if isinstance(right, cls) else (right,))
    return cls(items)


def with_fields(node, fields: tuple[str, ...]):
    """Give ``fields`` to every term under ``node`` that has no tag yet (Ovid ``(a or b).ti,ab.``)."""
    if isinstance(node, Term):
        return node if node.fields else Term(node.text, fields, node.phrase, node.slop, node.pos)
    if isinstance(node, (And, Or)):
        return type(node)(tuple(with_fields(n, fields) for n in node.items))
    if isinstance(node, Not):
        include = None if node.include is None else with_fields(node.include, fields)
        return Not(include, with_fields(node.exclude, fields))
    if isinstance(node, Near):
        return Near(with_fields(node.left, fields), with_fields(node.right, fields), node.distance)
    return node


def depth(node) -> int:
    if isinstance(node, (And, Or)):
        return 1 + max(depth(n) for n in node.items)
    if isinstance(node, Not):
        return 1 + max(depth(node.exclude), depth(node.include) if node.include is not None else 0)
    if isinstance(node, Near):
        return 1 + max(depth(node.left), depth(node.right))
    return 1


def terms(node) -> list[Term]:
    """Every term under ``node``, left to right."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [t for n in node.items for t in terms(n)]
    if isinstance(node, Not):
        return (terms(node.include) if node.include is not None else []) + terms(node.exclude)
    if isinstance(node, Near):
        return terms(node.left) + terms(node.right)
    return []
