"""The PubMed/Ovid query parser: precedence, phrases, tags, truncation, NOT, nesting, search
strategies, errors with positions, and every real boolean query of the embedded review collections."""
import json
import random
from pathlib import Path

import pytest

from trialpanorama_dagster.literature.reviews.clef_tar import TOPIC_FILE, _fields
from trialpanorama_dagster.search import And, Near, Not, Or, QueryError, Term, parse

REVIEWS = Path(__file__).resolve().parents[2] / "trialpanorama_dagster" / "data" / "reviews"


def s(text: str) -> str:
    return str(parse(text))


@pytest.mark.parametrize("text, expected", [
    ("a OR b AND c", "((a OR b) AND c)"),           # PubMed: strictly left to right
    ("a AND b OR c", "((a AND b) OR c)"),
    ("a NOT b OR c", "((a NOT b) OR c)"),
    ("a OR b NOT c AND d", "(((a OR b) NOT c) AND d)"),
    ("a or b and c", "((a OR b) AND c)"),           # operators in any case
    ("a Or (b aNd c)", "(a OR (b AND c))"),
    ("heart failure", "(heart AND failure)"),       # implicit AND between untagged words
    ("a b OR c", "((a AND b) OR c)"),
    ("a AND b AND c", "(a AND b AND c)"),           # same-operator chains flatten
    ("((a OR (b AND (c NOT d))) AND e)", "((a OR (b AND (c NOT d))) AND e)"),
    ("(((x)))", "x"),
])
def test_precedence_and_nesting(text, expected):
    assert s(text) == expected


def test_phrases_tags_and_truncation():
    assert parse('"heart failure"[tiab]').node == Term("heart failure", ("tiab",), phrase=True)
    assert parse('“heart failure”[ti]').node == Term("heart failure", ("ti",), phrase=True)   # curly quotes
    assert parse('“Survival Rate"[Mesh]').node == Term("Survival Rate", ("mh",), phrase=True)
    assert parse("hurtle cell[tiab]").node == Term("hurtle cell", ("tiab",), phrase=True)    # tag on a run
    assert parse('"Tafenoquine" [Supplementary Concept]').node.fields == ("nm",)
    assert parse("cardio*[tiab]").node == Term("cardio*", ("tiab",))
    assert parse("cardio*[tiab]").node.truncated
    assert parse('"heart fail*"').node.truncated
    assert parse("dermat$").node == Term("dermat*", ())                                      # Ovid truncation
    assert parse('"a b"[tiab:~3]').node == Term("a b", ("tiab",), phrase=True, slop=3)
    tags = {"[tiab]": "tiab", "[Title/Abstract]": "tiab", "[ti]": "ti", "[TITLE]": "ti", "[ab]": "ab",
            "[mh]": "mh", "[mesh]": "mh", "[MeSH Terms]": "mh", "[mh:noexp]": "mh_noexp",
            "[MeSH Terms:noexp]": "mh_noexp", "[majr]": "majr", "[pt]": "pt", "[Publication Type]": "pt",
            "[tw]": "tw", "[all]": "all", "[All Fields]": "all", "[sh]": "sh", "[ta]": "ta", "[nm]": "nm"}
    for tag, field in tags.items():
        assert parse(f"x{tag}").node.fields == (field,), tag
    assert parse("x").node.fields == ()
    assert parse("2010:2020[dp]").node == Term("2010:2020", ("dp",))


def test_not_forms():
    assert parse("NOT mouse").node == Not(None, Term("mouse"))
    assert parse("cancer AND NOT mouse").node == And((Term("cancer"), Not(None, Term("mouse"))))
    assert parse("Animals[Mesh] NOT (Animals[Mesh] AND Humans[Mesh])").node == Not(
        Term("Animals", ("mh",)), And((Term("Animals", ("mh",)), Term("Humans", ("mh",)))))


def test_ovid_syntax():
    assert parse("(randomized controlled trial or placebo).pt.").node == Or((
        Term("randomized controlled trial", ("pt",), phrase=True), Term("placebo", ("pt",))))
    assert parse("steroid*.ti,ab").node == Term("steroid*", ("ti", "ab"))
    assert parse("oxygen.mp").node == Term("oxygen", ("tw",))
    assert parse("exp Bronchiectasis/").node == Term("Bronchiectasis", ("mh",), phrase=True)
    assert parse("Dermatitis, Occupational/").node == Term("Dermatitis, Occupational", ("mh_noexp",), phrase=True)
    assert parse('exp "Typhoid Fever"/').node == Term("Typhoid Fever", ("mh",), phrase=True)
    assert parse("humans.sh.").node == Term("humans", ("mh_noexp",))
    assert parse("pain adj3 (back or neck)").node == Near(Term("pain"), Or((Term("back"), Term("neck"))), 3)
    assert parse("*Staphylococcus[Mesh]").node == Term("Staphylococcus", ("mh",))      # major-topic star


def test_search_strategies():
    p = parse("exp Asthma/\nasthma*.ti,ab.\n1 or 2\nplacebo.ab.\n3 and 4\nlimit 5 to humans")
    assert p.lines == 6
    assert p.node == And((Or((Term("Asthma", ("mh",), True), Term("asthma*", ("ti", "ab")))), Term("placebo", ("ab",))))
    assert any("limit" in w for w in p.warnings)
    assert parse("a.ti.\nb.ti.\nc.ti.\nor/1-3").node == Or(tuple(Term(x, ("ti",)) for x in "abc"))
    assert parse("a[tiab]\nb[tiab]\n#1 AND #2").node == And((Term("a", ("tiab",)), Term("b", ("tiab",))))
    # a query broken over lines (no line refers to another) is one query
    assert s("(a OR b)\nAND c") == "((a OR b) AND c)"
    with pytest.raises(QueryError) as err:
        parse("a.ti.\n3 or 1")
    assert err.value.line == 2 and err.value.position == len("a.ti.\n")


@pytest.mark.parametrize("text, position, message", [
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    ("cancer) OR b", 6, "unexpected ')'"),
    ('a OR "heart failure', 5, "unterminated quote"),
    ("a[tiab", 1, "unterminated field tag"),
    ("a] b", 1, "']' without '['"),
    ("cancer[xyz]", 6, "unknown field tag [xyz]"),
    ("a OR", 4, "expected a term after OR"),
    ("a AND OR b", 6, "expected a term after AND, found OR"),
    ("OR a", 0, "OR needs a term on its left"),
    ("[tiab] a", 0, "field tag without a term"),
    ("a OR ()", 5, "empty parentheses"),
    ("a AND *", 6, "truncation needs a word stem"),
    ("*cancer", 0, "left truncation is not supported"),
    ("#1 AND b", 0, "search history reference"),
    ("a AND abc[dp]", 6, "not a date"),
    ("(a adj2 (b AND c))", 3, "ADJ needs words"),
])
def test_errors_have_positions(text, position, message):
    with pytest.raises(QueryError) as err:
        parse(text)
    assert err.value.position == position
    assert message in str(err.value)
    assert f"at position {position}" in str(err.value)


def test_limits_are_query_errors():
    with pytest.raises(QueryError, match="nested deeper"):
        parse("(" * 100 + "a" + ")" * 100)
    with pytest.raises(QueryError, match="a query is text"):
        parse(None)
    p = parse("(a OR (b AND c)")           # PubMed closes what is left open at the end
    assert str(p) == "(a OR (b AND c))" and "closed at the end" in p.warnings[0]


def test_random_input_raises_only_query_error():
    rng = random.Random(20240611)
    alphabet = list('ab c()[]"“”*$#/.,:~-') + [" AND ", " OR ", " NOT ", " adj2 ", "[tiab]", "[mh]", ".ti,ab.",
                                                "\n", "1", "exp ", "or/1-2", "[tiab:~2]", "limit 1 to x"]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        try:
            parse(text)
            outcomes["ok"] += 1
        except QueryError:
            outcomes["error"] += 1
    assert outcomes["ok"] > 100 and outcomes["error"] > 100


def real_queries() -> list[tuple[str, str]]:
    """Every boolean query of the embedded collections: CLEF TAR (Ovid strategies) and the
    sysrev seed collection (PubMed; the query and its edited version)."""
    out = []
    for topic in sorted((REVIEWS / "clef_tar").iterdir()):
        out.append((f"clef_tar:{topic.name}", _fields((topic / TOPIC_FILE).read_text(encoding="utf-8"))["Query"]))
    for line in (REVIEWS / "sysrev_seed" / "overall_collection.jsonl").read_text(encoding="utf-8").splitlines():
        topic = json.loads(line)
        out.append((f"sysrev_seed:{topic['id']}", topic["query"]))
        if topic.get("edited_search"):
            out.append((f"sysrev_seed:{topic['id']}:edited", topic["edited_search"]))
    return out


def test_every_real_query_parses():
    queries = real_queries()
    assert len(queries) == 85  # 5 CLEF TAR strategies, 40 sysrev seed queries and their 40 edited versions
    parsed, failed = {}, {}
    for name, text in queries:
        try:
            parsed[name] = parse(text)
        except QueryError as exc:
            failed[name] = str(exc)
    print(f"\nreal queries parsed: {len(parsed)}/{len(queries)}")
    assert not failed
    clef = parsed["clef_tar:CD000996"]
    assert clef.lines == 17 and any("limit" in w for w in clef.warnings)
    assert "Bronchiectasis" in str(clef.node) and '"randomized controlled trial"[pt]' in str(clef.node)
