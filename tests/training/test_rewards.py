"""GRPO rewards on hand-made completions: the sample-size scheme (with the <think> prefill fix) and
the study-search reward against a real local index of the embedded warehouse."""
import json
import pickle

import pytest

from tests.training import warehouse
from trialpanorama_dagster.bench.metrics import recall_at
from trialpanorama_dagster.bench.search_env import LocalSearchEnv
from trialpanorama_dagster.search.query import QueryError
from trialpanorama_dagster.training.rewards import (SampleSizeReward, SearchReward, reward_for,
                                                    sample_size_format_ok)

CHAT = [{"role": "user", "content": "How many participants?"}]


def ok(answer: str, think: str = "power 80%, alpha 0.05") -> str:
    return f"<think>{think}</think>\n<answer>{answer}</answer>"


# -- sample size ------------------------------------------------------------------------------
@pytest.mark.parametrize("answer,target,expected", [
    ("230", 200, 1.1),                # within 20 %
    ("240", 200, 1.1),                # the bound is inclusive
    ("160", 200, 1.1),
    ("121", 100, 0.0),                # off by 21 %
    ("79", 100, 0.0),
    ("1,200 participants", 1150, 1.1),  # thousands separator
    ("1 200", 1200, 1.1),
    ("about twelve hundred", 1200, 0.0),  # format ok, no number: wrong
    ("0", 100, 0.0),
])
def test_sample_size_good_format(answer, target, expected):
    assert SampleSizeReward()([CHAT], [ok(answer)], target=[target]) == [pytest.approx(expected)]


@pytest.mark.parametrize("completion", [
    "<answer>200</answer>",                                    # no think block
    "<think>x</think>200",                                     # no answer tags
    "<answer>200</answer><think>x</think>",                    # wrong order
    "<think>a</think><think>b</think><answer>200</answer>",    # two think blocks
    "<think>a</think><answer>200</answer><answer>210</answer>",  # two answers
    "<think>a<answer>200</answer></think>",                    # answer inside the think block
    "",
])
def test_sample_size_bad_format(completion):
    assert SampleSizeReward()([CHAT], [completion], target=[200]) == [-2.0]


@pytest.mark.parametrize("target", [None, "n/a", 0, -5, True])
def test_sample_size_missing_target(target):
    assert SampleSizeReward()([CHAT], [ok("200")], target=[target]) == [-2.0]


def test_sample_size_numeric_target_as_text():
    assert SampleSizeReward()([CHAT], [ok("200")], target=["200"]) == [1.1]


def test_think_prefill_is_put_back():
    prompt = "<|im_start|>user\nHow many?<|im_end|>\n<|im_start|>assistant\n<think>"
    completion = "power 90%, alpha 0.05, dropout 10%</think><answer>330</answer>"
    # the unfixed reference reward checks the completion alone: the opening tag is missing
    assert not sample_size_format_ok(completion)
    assert SampleSizeReward()(["no prefill here"], [completion], target=[300]) == [-2.0]
    # read off the prompt, or configured
    assert SampleSizeReward()([prompt], [completion], target=[300]) == [1.1]
    assert SampleSizeReward(prefill="<think>")([CHAT], [completion], target=[300]) == [1.1]
    # a prefilled prompt whose completion opens the block again has two: bad format
    assert SampleSizeReward()([prompt], ["<think>" + completion], target=[300]) == [-2.0]
    # a chat whose last turn is the assistant's prefix counts too
    chat = CHAT + [{"role": "assistant", "content": "Let me solve this step by step.\n<think>"}]
    assert SampleSizeReward()([chat], [completion], target=[300]) == [1.1]


def test_conversational_completions_and_trl_signature():
    reward = SampleSizeReward()
    completions = [[{"role": "assistant", "content": ok("100")}], [{"role": "assistant", "content": "100"}]]
    got = reward(prompts=[CHAT, CHAT], completions=completions, target=[105, 105], sample_id=["a", "b"],
                 completion_ids=[[1], [2]], trainer_state=None)
    assert got == [1.1, -2.0]
    assert reward.__name__ == "sample_size_reward"
    assert pickle.loads(pickle.dumps(reward))([CHAT], [ok("100")], target=[100]) == [1.1]


# -- study search -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def search_case(tmp_path_factory):
    """The warehouse, its search environment and a review whose own query finds labelled PMIDs."""
    import duckdb

    db = warehouse(tmp_path_factory)
    env = LocalSearchEnv.open(db)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT record FROM task_samples WHERE task = 'study_search' AND split = 'train' "
                       "ORDER BY sample_id").fetchall()
    con.close()
    for (raw,) in rows:
        record = json.loads(raw)
        query = record["metadata"]["query"]
        try:
            ranked = env.search(query, 1000)
        except QueryError:
            continue
        recall = recall_at(ranked, record["labels"], 100)
        if recall:
            return db, env, record, query, recall
    pytest.fail("no study-search sample whose query finds a labelled PMID in the embedded warehouse")


def test_search_good_query_scores_recall(search_case):
    db, env, record, query, recall = search_case
    reward = SearchReward(db=db)
    got = reward([CHAT], [f"<answer>{query}</answer>"], relevant_pmids=[record["labels"]],
                 review_id=[record["metadata"]["review_id"]])
    assert got == [pytest.approx(0.1 + recall)]
    assert 0.1 < got[0] <= 1.1


def test_search_format_and_failures(search_case):
    db, env, record, query, recall = search_case
    reward = SearchReward(env=env)
    labels = [record["labels"]]
    assert reward([CHAT], [query], relevant_pmids=labels) == [-2.0]                       # no tags
    assert reward([CHAT], [f"<think>hmm</think><answer>{query}</answer>"], relevant_pmids=labels) == [-2.0]
    assert reward([CHAT], [f"<answer>{query}</answer><answer>x</answer>"], relevant_pmids=labels) == [-2.0]
    unreadable = '(("unclosed'
    with pytest.raises(QueryError):
        env.search(unreadable, 10)
    assert reward([CHAT], [f"<answer>{unreadable}</answer>"], relevant_pmids=labels) == [0.0]
    assert reward([CHAT], ["<answer>zzqxv AND qqzxw</answer>"], relevant_pmids=labels) == [0.0]   # finds nothing
    assert reward([CHAT], ["<answer></answer>"], relevant_pmids=labels) == [0.0]


def test_search_prefill_and_think_variant(search_case):
    db, env, record, query, recall = search_case
    labels = [record["labels"]]
    prompt = "<|im_start|>user\nWrite the query.<|im_end|>\n<|im_start|>assistant\n<answer>"
    assert SearchReward(env=env)([prompt], [f"{query}</answer>"], relevant_pmids=labels) == \
        [pytest.approx(0.1 + recall)]
    assert SearchReward(env=env, prefill="<answer>")([CHAT], [f"{query}</answer>"], relevant_pmids=labels) == \
        [pytest.approx(0.1 + recall)]
    think = SearchReward(env=env, think=True)
    assert think([CHAT], [f"<think>concepts</think><answer>{query}</answer>"], relevant_pmids=labels) == \
        [pytest.approx(0.1 + recall)]
    assert think([CHAT], [f"<answer>{query}</answer>"], relevant_pmids=labels) == [-2.0]


def test_search_reward_pickles_and_reopens(search_case):
    db, env, record, query, recall = search_case
    reward = reward_for("study_search", db=db)
    assert reward.__name__ == "study_search_reward"
    reward([CHAT], [f"<answer>{query}</answer>"], relevant_pmids=[record["labels"]])   # opens the index
    copy = pickle.loads(pickle.dumps(reward))
    assert copy([CHAT], [f"<answer>{query}</answer>"], relevant_pmids=[record["labels"]]) == \
        [pytest.approx(0.1 + recall)]
    with pytest.raises(ValueError):
        SearchReward()
