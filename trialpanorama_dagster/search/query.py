"""PubMed boolean queries (and Ovid MEDLINE search strategies) -> a query tree.

``parse(text) -> ParsedQuery`` reads:

* AND / OR / NOT in any case, PubMed's implicit AND between adjacent terms, parentheses, and
  PubMed's precedence: strictly left to right (``a OR b AND c`` is ``(a OR b) AND c``);
* quoted phrases (straight or curly quotes), truncation ``word*`` (also inside phrases), field
  tags ``[tiab] [ti] [ab] [tw] [all] [mh] [mesh] [MeSH Terms] [mh:noexp] [majr] [pt] [nm]
  [Supplementary Concept] [ta] [dp] …`` in any case and spelling PubMed accepts, proximity
  ``"a b"[tiab:~3]``; a tag after several untagged words applies to them as a phrase
  (``hurtle cell[tiab]``), untagged terms search all fields;
* Ovid syntax as the CLEF TAR topics write it: field suffixes ``.ti,ab.`` ``.tw.`` ``.mp`` ``.pt.``
  ``.sh.`` (also after a parenthesised group), subject headings ``Hand Dermatoses/`` and
  ``exp Bronchiectasis/``, ``$`` truncation, ``adjN``;
* multi-line search strategies (one query per line, later lines combining earlier ones by number:
  ``1 or 2``, ``#1 AND #2``, ``or/3-6``, ``limit 7 to humans``): the last line is the query. A
  ``limit`` is read as the line it limits (date and language limits are not applied), noted in
  ``warnings``.

Anything else raises ``QueryError`` with the character position (and line); no input raises
anything else. Fields the local index does not hold (subheadings ``[sh]``, ``[la]``, ``[au]`` …)
parse and are noted in ``warnings``; the index drops them from the query.
"""
from __future__ import annotations

import re

from .lexer import Token, tokenize
from .nodes import (IGNORED_FIELDS, WILDCARD, And, Near, Not, Or, ParsedQuery, QueryError, Term, combine,
                    with_fields)

MAX_NESTING = 64      # parentheses in one query
MAX_DEPTH = 300       # the whole tree, search-strategy lines included
MAX_NODES = 100_000   # terms and operators once line references are expanded
_TEXT_FIELDS = {"ti", "ab", "tiab", "tw", "all", "kw", "nm", "ta"}
_MESH_FIELDS = {"mh", "mh_noexp", "majr"}
_DATE = re.compile(r"^\d{4}(/\d{1,2}(/\d{1,2})?)?(\s*:\s*\d{4}(/\d{1,2}(/\d{1,2})?)?)?$")
_LIMIT = re.compile(r"^limit\s+(\d+)\s+to\b(.*)$", re.I)


class _Parser:
    def __init__(self, text: str, tokens: list[Token], lines: list | None = None, line_no: int | None = None):
        self.text, self.toks, self.i = text, tokens, 0
        self.lines, self.line_no = lines, line_no
        self.warnings: list[str] = []
        # Ovid reads adjacent words as a phrase; PubMed as terms joined by AND
        self.ovid = lines is not None or any(t.kind in ("OVID", "HEAD", "ADJ", "COMBINE") for t in tokens)

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, pos, self.line_no, self.text)

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def kind(self, ahead: int = 0) -> str | None:
        tok = self.peek(ahead)
        return tok.kind if tok else None

    def parse(self):
        if not self.toks:
            raise self.error("empty query", 0)
        node = self.expr(0)
        if self.peek() is not None:
            raise self.error("unexpected ')'", self.peek().pos)
        return node

    def expr(self, nesting: int):
        left = self.operand(nesting)
        while (tok := self.peek()) is not None and tok.kind != ")":
            if tok.kind == "OP":
                self.i += 1
                right = self.operand(nesting, after=tok)
                if tok.value == "NOT":
                    left = Not(left, right)
                else:
                    left = combine(And if tok.value == "AND" else Or, left, right)
            else:  # PubMed's implicit AND
                left = combine(And, left, self.operand(nesting))
        return left

    def operand(self, nesting: int, after: Token | None = None):
        tok = self.peek()
        if tok is not None and tok.kind == "OP" and tok.value == "NOT":
            self.i += 1
            return Not(None, self.operand(nesting, after=tok))
        node = self.primary(nesting, after)
        while (adj := self.peek()) is not None and adj.kind == "ADJ":
            self.i += 1
            node = self.near(node, self.primary(nesting, adj), adj)
        return node

    def primary(self, nesting: int, after: Token | None):
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected a term after {_name(after)}" if after else "expected a term",
                             len(self.text) if after is None else after.end)
        if tok.kind == "(":
            if nesting >= MAX_NESTING:
                raise self.error(f"parentheses nested deeper than {MAX_NESTING}", tok.pos)
            self.i += 1
            if self.kind() == ")":
                raise self.error("empty parentheses", tok.pos)
            inner = self.expr(nesting + 1)
            if self.kind() is None:  # PubMed closes what is left open at the end
                self.warnings.append(f"missing ')' for the '(' at position {tok.pos}: closed at the end")
            else:
                self.i += 1
            if self.kind() in ("TAG", "OVID"):
                inner = with_fields(inner, self.field_suffix()[0])
            return inner
        if tok.kind == "WORD" and tok.value.lower() == "exp" and self.kind(1) == "PHRASE" and self.kind(2) == "HEAD":
            self.i += 3
            return self.term(self.toks[self.i - 2].value, ("mh",), True, 0, self.toks[self.i - 2].pos)
        if tok.kind == "PHRASE":
            self.i += 1
            if not tok.value.strip():
                raise self.error("empty phrase", tok.pos)
            if self.kind() == "HEAD":
                self.i += 1
                return self.term(tok.value, ("mh_noexp",), True, 0, tok.pos)
            fields, slop = self.field_suffix()
            return self.term(tok.value, fields, True, slop, tok.pos)
        if tok.kind == "WORD":
            return self.words()
        if tok.kind in ("REF", "COMBINE"):
            self.i += 1
            return self.ref(tok)
        if tok.kind == "OP":
            raise self.error(f"{tok.value} needs a term on its left" if after is None
                             else f"expected a term after {_name(after)}, found {tok.value}", tok.pos)
        if tok.kind == ")":
            raise self.error("unexpected ')'" if after is None else f"expected a term after {_name(after)}", tok.pos)
        if tok.kind == "ADJ":
            raise self.error("ADJ needs a term on its left", tok.pos)
        raise self.error("field tag without a term", tok.pos)

    def field_suffix(self) -> tuple[tuple[str, ...], int]:
        tok = self.peek()
        if tok is None or tok.kind not in ("TAG", "OVID"):
            return (), 0
        self.i += 1
        if self.kind() == "HEAD":  # a stray Ovid '/' after a tag: Humans[Mesh]/
            self.warnings.append(f"'/' after the field tag at position {tok.pos} ignored")
            self.i += 1
        return tok.value if tok.kind == "TAG" else (tok.value, 0)

    def words(self):
        start = self.i
        while self.kind() == "WORD":
            self.i += 1
        run = self.toks[start:self.i]
        if (self.lines is not None and len(run) == 1 and run[0].value.isdigit()
                and self.kind() not in ("TAG", "OVID", "HEAD")):
            return self.ref(Token("REF", int(run[0].value), run[0].pos, run[0].end))
        if self.kind() == "HEAD":
            self.i += 1
            explode = len(run) > 1 and run[0].value.lower() == "exp"
            run = run[1:] if explode else run
            heading = " ".join(t.value for t in run).lstrip("*")
            return self.term(heading, ("mh",) if explode else ("mh_noexp",), True, 0, run[0].pos)
        fields, slop = self.field_suffix()
        if (fields or self.ovid) and len(run) > 1:
            return self.term(" ".join(t.value for t in run), fields, True, slop, run[0].pos)
        node = None
        for t in run:
            term = self.term(t.value, fields, False, 0, t.pos)
            node = term if node is None else combine(And, node, term)
        return node

    def term(self, text: str, fields: tuple[str, ...], phrase: bool, slop: int, pos: int) -> Term:
        text = " ".join(text.split())
        if set(fields) & _MESH_FIELDS:
            text = text.lstrip("*")  # Ovid's major-topic star
        if set(fields) & _MESH_FIELDS and "/" in text:
            head, _, sub = text.partition("/")
            self.warnings.append(f"subheading /{sub} of {head!r} dropped (not in the local index)")
            text = head.strip()
        if WILDCARD in text:
            stem = text.replace(WILDCARD, "")
            if not re.search(r"\w", stem):
                raise self.error("truncation needs a word stem", pos)
            if text.startswith(WILDCARD) or re.search(r"\s\*", text):
                raise self.error("left truncation is not supported", pos)
        if "dp" in fields and not _DATE.match(text):
            raise self.error(f"{text!r} is not a date or date range (YYYY[/MM[/DD]][:YYYY…])", pos)
        for f in fields:
            if f in IGNORED_FIELDS:
                self.warnings.append(f"[{f}] is not in the local index: {text!r} is ignored")
        return Term(text, fields, phrase, slop, pos)

    def ref(self, tok: Token):
        if self.lines is None:
            raise self.error("search history reference needs a multi-line search strategy (one query per line)",
                             tok.pos)
        if tok.kind == "COMBINE":
            op, numbers = tok.value
            nodes = [self.line(n, tok) for n in numbers]
            node = nodes[0]
            for other in nodes[1:]:
                node = combine(And if op == "AND" else Or, node, other)
            return node
        return self.line(tok.value, tok)

    def line(self, n: int, tok: Token):
        if not 1 <= n <= len(self.lines):
            raise self.error(f"line {n} is not an earlier line of this search strategy", tok.pos)
        return self.lines[n - 1]

    def near(self, left, right, tok: Token) -> Near:
        for side in (left, right):
            if not _proximity_operand(side):
                raise self.error("ADJ needs words, phrases or ORs of them on both sides", tok.pos)
        return Near(left, right, tok.value)


def _name(tok: Token) -> str:
    return f"ADJ{tok.value}" if tok.kind == "ADJ" else str(tok.value)


def _proximity_operand(node) -> bool:
    if isinstance(node, Term):
        return not node.fields or set(node.fields) <= _TEXT_FIELDS
    return isinstance(node, Or) and all(_proximity_operand(n) for n in node.items)


def _measure(node, memo: dict) -> tuple[int, int]:
    """(nodes once references are expanded, depth), each shared line counted once per use."""
    key = id(node)
    if key not in memo:
        kids = (node.items if isinstance(node, (And, Or)) else
                (node.left, node.right) if isinstance(node, Near) else
                tuple(k for k in (node.include, node.exclude) if k is not None) if isinstance(node, Not) else ())
        sizes = [_measure(k, memo) for k in kids]
        memo[key] = (1 + sum(s for s, _ in sizes), 1 + max((d for _, d in sizes), default=0))
    return memo[key]


def _references(line: str) -> bool:
    bare = re.sub(r'\[[^\]]*\]|["“”][^"“”]*["“”]', " ", line)
    return bool(re.search(r"#\d+|^\s*(or|and)/\d|^\s*limit\s+\d+|(?<![\w.$*/-])\d+(?![\w.$*/\[-])", bare, re.I))


def _is_strategy(lines: list[tuple[int, str]]) -> bool:
    if len(lines) < 2:
        return False
    for _, line in lines:
        bare = re.sub(r'["“”][^"“”]*["“”]', " ", line)
        if bare.count("(") != bare.count(")") or re.match(r"^\s*(and|or|not)\b(?!/)|.*\b(and|or|not)\s*$", bare, re.I):
            return False
    return any(_references(line) for _, line in lines[1:])


def _parse_strategy(text: str, lines: list[tuple[int, str]]) -> tuple[object, list[str]]:
    done: list = []
    warnings: list[str] = []
    for no, (offset, line) in enumerate(lines, start=1):
        m = _LIMIT.match(line)
        if m:
            n = int(m.group(1))
            if not 1 <= n < no:
                raise QueryError(f"limit refers to line {n}, not an earlier line", offset, no, text)
            warnings.append(f"line {no}: limit to {m.group(2).strip()!r} not applied")
            done.append(done[n - 1])
            continue
        parser = _Parser(text, tokenize(line, offset, text), done, no)
        done.append(parser.parse())
        warnings += [f"line {no}: {w}" for w in parser.warnings]
    return done[-1], warnings


def parse(text: str) -> ParsedQuery:
    """Parse a PubMed query or a multi-line Ovid/PubMed search strategy (see the module doc)."""
    if not isinstance(text, str):
        raise QueryError(f"a query is text, not {type(text).__name__}")
    try:
        lines, offset = [], 0
        for raw in text.splitlines(keepends=True):
            stripped = raw.strip()
            if stripped:
                lines.append((offset + raw.index(stripped[0]), stripped))
            offset += len(raw)
        strategy = _is_strategy(lines)
        if strategy:
            node, warnings = _parse_strategy(text, lines)
        else:
            parser = _Parser(text, tokenize(text))
            node, warnings = parser.parse(), parser.warnings
        size, deep = _measure(node, {})
        if size > MAX_NODES or deep > MAX_DEPTH:
            raise QueryError(f"query too large ({size} nodes, depth {deep})", 0, text=text)
    except RecursionError:
        raise QueryError("query nested too deeply", 0) from None
    return ParsedQuery(node, text, tuple(dict.fromkeys(warnings)), len(lines) if strategy else 1)
