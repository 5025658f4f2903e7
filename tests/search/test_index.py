"""The search index on a warehouse built from every embedded source: exact titles, field
restriction, truncation, boolean set semantics, MeSH explosion, determinism, the CLI."""
import argparse
import random
import shutil

import duckdb
import pytest

from tests.support.warehouse import build_embedded_warehouse
from trialpanorama_dagster.cli_search import register
from trialpanorama_dagster.search import (QueryError, SearchIndex, build_index, content_version, default_index_path,
                                          parse, read_info)
from trialpanorama_dagster.search.analysis import words

ALL = 100_000  # k larger than the warehouse: the whole result set


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_embedded_warehouse(tmp_path_factory.mktemp("search") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def index(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        info = build_index(con, db.parent / "index")
    finally:
        con.close()
    return SearchIndex(info.path)


def sql(db, query, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def test_index_holds_every_article_and_trial(db, index):
    articles, studies = sql(db, "SELECT (SELECT count(DISTINCT coalesce(pmid, article_id)) FROM literature), "
                                "(SELECT count(*) FROM studies)")[0]
    assert (index.info.articles, index.info.studies) == (articles, studies)
    assert index.info.documents == articles + studies > 2000
    assert len(index.info.version) == 16


def test_exact_title_phrase_ranks_the_article_first(db, index):
    rows = sql(db, """SELECT pmid, title FROM literature WHERE pmid IS NOT NULL AND title NOT LIKE '%"%'
                      AND length(title) > 40 AND title IN (SELECT title FROM literature GROUP BY title
                      HAVING count(*) = 1) ORDER BY pmid LIMIT 25""")
    assert len(rows) == 25
    for pmid, title in rows:
        assert index.search(f'"{title}"[ti]', k=5)[0] == pmid, title
        assert index.search(f'"{title}"', k=5)[0] == pmid, title
    assert index.search("crizotinib overall survival ALK rearrangement", k=3)[0] == "21933749"


def test_title_and_abstract_fields_are_kept_apart(db, index):
    pmid, title, abstract = sql(db, "SELECT pmid, title, abstract FROM literature WHERE pmid = '21933749'")[0]
    in_title = sorted(set(words(title)) - set(words(abstract)))
    in_abstract = sorted(set(words(abstract)) - set(words(title)))
    assert in_title and in_abstract
    for word in in_title[:3]:
        assert pmid in index.search(f"{word}[ti]", ALL) and pmid not in index.search(f"{word}[ab]", ALL)
        assert pmid in index.search(f"{word}[tiab]", ALL)
    for word in in_abstract[:3]:
        assert pmid in index.search(f"{word}[ab]", ALL) and pmid not in index.search(f"{word}[ti]", ALL)


def test_truncation(index):
    assert "21933749" in index.search("crizot*[tiab]", ALL)
    assert "21933749" in index.search('"effect of crizot*"[ti]', ALL)
    assert "21933749" not in index.search("crizot[tiab]", ALL)
    stems = set(index.search("vaccin*[tiab]", ALL))
    assert set(index.search("vaccine[tiab] OR vaccines[tiab] OR vaccination[tiab]", ALL)) <= stems


def test_boolean_set_semantics(index):
    def ids(q):
        return set(index.search(q, ALL))
    cancer, lung = ids("cancer"), ids("lung")
    assert cancer and lung
    assert ids("cancer NOT lung") == cancer - lung
    assert ids("cancer AND lung") == cancer & lung == ids("cancer lung")
    assert ids("cancer OR lung") == cancer | lung
    assert ids("lung OR cancer AND trial") == (lung | cancer) & ids("trial")   # left to right


def test_mesh_explosion_and_publication_types(db, index):
    # trials: mesh_terms marks ancestors; [mh] explodes to them, [mh:noexp] does not
    study = sql(db, "SELECT study_id, mesh_term FROM mesh_terms WHERE is_ancestor ORDER BY ALL LIMIT 1")[0]
    assert study[0] in index.search(f'"{study[1]}"[mh]', ALL)
    own = {r[0] for r in sql(db, "SELECT study_id FROM mesh_terms WHERE mesh_term = ? AND NOT is_ancestor", [study[1]])}
    assert set(index.search(f'"{study[1]}"[mh:noexp]', ALL, kind="study")) == own
    # articles: the MeSH tree in the warehouse puts Humans under Animals
    humans_only = {r[0] for r in sql(db, "SELECT pmid FROM literature WHERE list_contains(mesh_terms, 'Humans') "
                                         "AND NOT list_contains(mesh_terms, 'Animals')")}
    assert humans_only and humans_only <= set(index.search("Humans[mh:noexp]", ALL))
    assert humans_only <= set(index.search("Animals[mh]", ALL))
    assert not humans_only & set(index.search("Animals[mh:noexp]", ALL))
    rct = {r[0] for r in sql(db, "SELECT coalesce(pmid, article_id) FROM literature "
                                 "WHERE list_contains(publication_types, 'Randomized Controlled Trial')")}
    assert rct and set(index.search("Randomized Controlled Trial[pt]", ALL)) == rct
    y2011 = {r[0] for r in sql(db, "SELECT coalesce(pmid, article_id) FROM literature WHERE year = 2011 "
                                   "UNION SELECT study_id FROM studies WHERE start_year = 2011")}
    assert set(index.search("2011[dp]", ALL)) == y2011


def test_kinds_and_ignored_fields(db, index):
    trials = index.search("randomized", ALL, kind="study")
    articles = index.search("randomized", ALL, kind="article")
    assert trials and articles and set(trials).isdisjoint(articles)
    assert set(trials) <= {r[0] for r in sql(db, "SELECT study_id FROM studies")}
    assert index.search('cancer AND "drug therapy"[sh]', ALL) == index.search("cancer", ALL)
    with pytest.raises(QueryError, match="nothing to search"):
        index.search("english[la]")
    with pytest.raises(QueryError, match="unexpected"):
        index.search("cancer) AND lung")
    assert index.search("cancer AND (lung", ALL) == index.search("cancer AND lung", ALL)  # closed at the end


def test_ranking_is_deterministic(db, index, tmp_path):
    con = duckdb.connect(str(db), read_only=True)
    try:
        again = build_index(con, tmp_path / "again", threads=1, heap_bytes=15_000_000)
        assert content_version(con)[0] == again.version == index.info.version
    finally:
        con.close()
    other = SearchIndex(again.path)
    for q in ["cancer", "Humans[mh]", "trial*[tiab] NOT lung", '"randomized controlled trial"[pt] OR placebo']:
        assert index.search(q, 50) == other.search(q, 50)
        hits = index.hits(q, 200)
        for a, b in zip(hits, hits[1:]):   # score, then id order
            assert a.score > b.score or (a.score == b.score and index.ids.index(a.id) < index.ids.index(b.id))


def test_build_refuses_to_replace_a_folder_that_is_not_an_index(db, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    con = duckdb.connect(str(db), read_only=True)
    try:
        with pytest.raises(FileExistsError, match="not a search index"):
            build_index(con, tmp_path / "mine")
    finally:
        con.close()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_real_review_queries_run_and_find_included_studies(db, index):
    """Each review's own Boolean query (CLEF TAR strategies, sysrev seed PubMed queries) runs; where
    the warehouse holds the included articles (titles only here), the queries find some of them."""
    reviews = sql(db, "SELECT review_id, boolean_query FROM reviews WHERE boolean_query IS NOT NULL ORDER BY 1")
    assert len(reviews) == 45
    found = {}
    for review_id, query in reviews:
        ids = index.search(query, 100, kind="article")
        assert len(set(ids)) == len(ids) <= 100, review_id
        included = {r[0] for r in sql(db, "SELECT coalesce(l.pmid, l.article_id) FROM relations r JOIN literature l "
                                          "ON l.article_id = r.tail_id WHERE r.relation_type = 'review_candidate' "
                                          "AND r.head_id = ? AND r.label = 'included'", [review_id])}
        if included:
            found[review_id] = len(included & set(ids)) / len(included)
    assert found["sysrev_seed:14"] >= 0.5 and sum(r > 0 for r in found.values()) >= 15


def test_any_input_gives_ids_or_a_query_error(index):
    rng = random.Random(7)
    alphabet = list('ab c()[]"“”*$#/.,:~-é1') + [" AND ", " OR ", " NOT ", " adj2 ", "[tiab]", "[mh]", ".ti,ab.",
                                                 "\n", "exp ", "or/1-2", "[tiab:~2]", "limit 1 to x", "cancer",
                                                 "[dp]", "2011", "[pt]", "[sh]", "lung*"]
    answered = 0
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            answered += isinstance(index.search(text, 10), list)
        except QueryError:
            pass
    assert answered > 50


def run_cli(argv, capsys):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    rc = args.func(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_end_to_end(db, tmp_path, capsys):
    wh = tmp_path / "copy.duckdb"
    shutil.copy(db, wh)
    rc, out, err = run_cli(["search", '"Effect of crizotinib on overall survival"[ti]', "--db", str(wh)], capsys)
    assert rc == 0 and out.splitlines()[0] == "21933749" and "built the search index" in err
    assert read_info(default_index_path(wh)).documents > 2000
    rc, out, err = run_cli(["search", "crizotinib", "--db", str(wh), "--k", "3", "--show"], capsys)
    assert rc == 0 and "built" not in err
    pmid, score, kind, title = out.splitlines()[0].split("\t")
    assert (pmid, kind) == ("21933749", "article") and title.startswith("Effect of crizotinib") and float(score) > 0
    rc, out, err = run_cli(["search", "cancer", "--db", str(wh), "--rebuild", "--kind", "study", "--k", "5"], capsys)
    assert rc == 0 and "built" in err and 0 < len(out.splitlines()) <= 5
    strategy = tmp_path / "strategy.txt"
    strategy.write_text("crizotinib.ti,ab.\nexp Lung Neoplasms/\n1 and 2\nlimit 3 to english\n", encoding="utf-8")
    rc, out, err = run_cli(["search", "--query-file", str(strategy), "--db", str(wh)], capsys)
    assert rc == 0 and out.split() == ["21933749"] and "limit" in err
    rc, out, err = run_cli(["search", "cancer) OR", "--db", str(wh)], capsys)
    assert rc == 2 and "unexpected ')' at position 6" in err and out == ""
    # the warehouse changes: the next search rebuilds the index
    con = duckdb.connect(str(wh))
    con.execute("UPDATE literature SET title = 'Zyxwvut renamed article' WHERE pmid = '21933749'")
    con.close()
    rc, out, err = run_cli(["search", "zyxwvut", "--db", str(wh), "--index", str(tmp_path / "elsewhere")], capsys)
    assert rc == 0 and out.split() == ["21933749"] and "built" in err
    rc, out, err = run_cli(["search", "zyxwvut", "--db", str(wh)], capsys)
    assert rc == 0 and out.split() == ["21933749"] and "built" in err
    rc, _, err = run_cli(["search", "x", "--db", str(tmp_path / "missing.duckdb")], capsys)
    assert rc == 2 and "no warehouse" in err
    assert parse("english[la] AND x").warnings
