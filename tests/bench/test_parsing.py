"""Answer extraction: JSON anywhere, <answer>/<think> tags, option letters, numbers; never raising."""
import random

import pytest

from trialpanorama_dagster.bench.parsing import (answer_tag, as_number, find_json, first_number, json_lists,
                                                 json_objects, last_number, numbers, option_letter, strip_think)


# --- JSON -----------------------------------------------------------------------------------------

def test_fenced_json():
    text = 'Sure.\n```json\n{"step_by_step_thinking": "Option A is wrong", "answer_choice": "C"}\n```\nDone.'
    assert find_json(text, "answer_choice") == {"step_by_step_thinking": "Option A is wrong", "answer_choice": "C"}


def test_bare_json_with_prose_around():
    text = 'Here is my query: {"query": "(asthma OR wheez*) AND child*"} I hope it helps {not json}.'
    assert list(json_objects(text)) == [{"query": "(asthma OR wheez*) AND child*"}]


def test_python_dict_repr():
    assert find_json("{'1': 'INCLUDED', '2': 'EXCLUDED'}") == {"1": "INCLUDED", "2": "EXCLUDED"}
    assert find_json("result: {'a': None, 'b': True} end") == {"a": None, "b": True}


def test_braces_and_quotes_inside_strings():
    text = '{"query": "a {b} c", "note": "it\'s \\"quoted\\" }"} trailing }'
    assert find_json(text) == {"query": "a {b} c", "note": 'it\'s "quoted" }'}


def test_apostrophe_in_prose_does_not_hide_object():
    text = "{this isn't json} then {\"x\": 1}"
    assert list(json_objects(text)) == [{"x": 1}]


def test_nested_object_found_when_outer_does_not_decode():
    text = '{"results": [{"PMID": "1", "decision": "included"}], confidence: 9}'
    assert list(json_objects(text)) == [{"PMID": "1", "decision": "included"}]


def test_first_object_with_key():
    text = '{"other": 1} and {"query": "x"}'
    assert find_json(text, "query") == {"query": "x"}
    assert find_json(text, "missing") is None
    assert find_json(text) == {"other": 1}


def test_key_lookup_ignores_case_and_separators():
    assert find_json('{"Answer Choice": "B"}', "answer_choice") == {"Answer Choice": "B"}


def test_truncated_json_gives_nothing():
    assert find_json('```json\n{"query": "a AND (b') is None


def test_json_lists():
    assert list(json_lists('x [1, 2] y ("a"[tiab]) [{"PMID": "3"}]')) == [[1, 2], [{"PMID": "3"}]]


# --- tags -----------------------------------------------------------------------------------------

def test_answer_tag_last_one():
    assert answer_tag("<answer>first</answer> then <answer> second </answer>") == "second"


def test_answer_tag_prefilled_and_unclosed():
    assert answer_tag("(a OR b) AND c</answer>") == "(a OR b) AND c"
    assert answer_tag("reasoning <answer>240") == "240"
    assert answer_tag("no tags") is None


def test_strip_think():
    assert strip_think("<think>the answer is A</think>\nAnswer: B") == "Answer: B"
    assert strip_think("prefilled reasoning</think>final") == "final"
    assert strip_think("<think>unfinished B") == "unfinished B"
    assert strip_think("<THINK>x</THINK>y") == "y"


# --- option letters -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,letter", [
    ("B", "B"), ("b", "B"), ("(B)", "B"), ("B.", "B"), ("B) the second arm", "B"), ("Answer: B", "B"),
    ("The answer is B.", "B"), ("The correct option is (D) because", "D"), ('"answer_choice": "b"', "B"),
    ("answer_choice: 'c'", "C"), ("{'answer_choice': 'A'}", "A"), ("B\nBecause the arms match.", "B"),
    ("<think>The answer is A.</think>\nFinal answer: C", "C"), ("I choose option B.", "B"),
    ("<answer>D</answer>", "D"), ("**Answer:** (C)", "C"),
    ('```json\n{"step_by_step_thinking": "Option A is the one I doubt; answer is A", "answer_choice": "D"}\n```', "D"),
])
def test_option_letter(text, letter):
    assert option_letter(text) == letter


@pytest.mark.parametrize("text", [
    "", "   ", "A patient with asthma is described.", "I am not sure.", "Because of the design",
    "The answer is E", '{"answer_choice": "Z"}',
])
def test_no_option_letter(text):
    assert option_letter(text, "ABCD") is None


def test_option_letter_outside_letters():
    assert option_letter("Answer: E", "ABCD") is None
    assert option_letter("Answer: E", "ABCDE") == "E"


# --- numbers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("1,200", [1200]), ("1 200 patients", [1200]), ("N = 240 participants", [240]), ("240.0", [240]),
    ("about 1,200, which", [1200]), ("12.5 and 3", [12.5, 3]), ("2,3", [2, 3]), ("3.5mg", []),
    ("COVID19 trial of 60", [60]), ("1\u202f234 enrolled", [1234]), ("", []), ("no numbers", []),
])
def test_numbers(text, expected):
    got = numbers(text)
    assert got == expected
    assert all(type(x) is int for x, y in zip(got, expected) if float(y).is_integer())


def test_first_and_last_number():
    text = "With 80% power and alpha 0.05 we need 150 per arm, so 300 in total (90% CI)."
    assert first_number(text) == 80
    assert last_number(text) == 300
    assert last_number(text, skip_percent=False) == 90
    assert last_number("nothing") is None


@pytest.mark.parametrize("value,expected", [
    (240, 240), (240.0, 240), (240.5, 240.5), ("1,200", 1200), ("about 300 patients", 300),
    (True, None), (None, None), ("n/a", None), ([240], None), (float("nan"), None), (float("inf"), None),
])
def test_as_number(value, expected):
    assert as_number(value) == expected


# --- never raising --------------------------------------------------------------------------------

def test_helpers_never_raise_on_odd_input():
    rng = random.Random(7)
    alphabet = "{}[]()\"'\\:,<>/answer think AND OR 0123456789 .\n`json"
    texts = ["", None, "{" * 5000, "[" * 3000 + "]" * 10, "{'a': " * 2000, '{"a": 1' * 500, "\x00\ud800",
             "```json\n{{{```", "<answer></answer>", "</think></think><think>", "9" * 10000, "1e999"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    for text in texts:
        list(json_objects(text))
        list(json_lists(text))
        find_json(text, "query")
        answer_tag(text)
        strip_think(text)
        option_letter(text)
        numbers(text)
        last_number(text)
