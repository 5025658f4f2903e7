"""Extracting answers from model outputs: JSON objects, ``<answer>`` tags, option letters, numbers.

Every helper takes any string (``None`` reads as "") and never raises: what it cannot find comes
back as ``None`` (or an empty list).

* :func:`strip_think` removes ``<think>…</think>`` blocks. A closing tag without an opening one (a
  prompt prefilled with ``<think>``) drops everything up to the last ``</think>``; an opening tag
  never closed is removed alone and its text kept (the answer may sit in an unfinished block).
* :func:`answer_tag` is the content of the last ``<answer>…</answer>``; with a prompt prefilled
  with ``<answer>`` the output holds only ``…</answer>``, read as the text before it; an
  ``<answer>`` never closed gives the text after it.
* :func:`json_objects` yields the objects written in the text: first those inside ```` ``` ````
  fences (```` ```json ````, ```` ```python ```` or bare), then those anywhere in the text, each the
  first balanced ``{…}`` from a brace that decodes, as JSON or else as a Python literal (a dict
  repr with single quotes, ``True``/``None``). Prose before or after an object is ignored. Quotes
  only open a string where a key or value can start (after ``{ [ , :``), so an apostrophe in
  prose inside braces does not hide the closing brace.
* :func:`option_letter` reads "B", "(B)", "B.", "B) text", "Answer: B", "The answer is (B).",
  "answer_choice": "b" and the like; a letter must be one of ``letters``.
* :func:`numbers` reads "1,200", "1 200" (and thin or no-break spaces between groups of three),
  "240.0", "N = 240 participants"; integral values come back as ``int``.
"""
from __future__ import annotations

import ast
import json
import math
import re
import warnings
from collections.abc import Iterator

MAX_STARTS = 5000           # brackets tried per text, and
MAX_VISITS = 200_000        # brackets, quotes and backslashes visited per text: bound the work on odd outputs
LETTERS = "ABCDEFGHIJ"

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)```", re.S)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:(?:,|[ \u00a0\u202f\u2009])\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?(?![\w]|\.\d)")
_SPECIAL = re.compile(r"[\"'\\{}\[\]]")
_GROUP_SEP = re.compile(r"[, \u00a0\u202f\u2009]")


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def strip_think(text: str | None) -> str:
    """The text without its reasoning blocks (see the module docstring)."""
    text = _THINK_BLOCK.sub(" ", _text(text))
    low = text.lower()
    end = low.rfind("</think>")
    if end >= 0:
        text = text[end + len("</think>"):]
    return re.sub(r"<think>", " ", text, flags=re.I).strip()


def answer_tag(text: str | None) -> str | None:
    """The content of the last ``<answer>`` tag, stripped; None when the text has none."""
    text = _text(text)
    found = _ANSWER.findall(text)
    if found:
        return found[-1].strip()
    low = text.lower()
    close, open_ = low.rfind("</answer>"), low.rfind("<answer>")
    if close >= 0 and open_ < 0:
        return text[:close].strip()
    if open_ >= 0 and close < open_:
        return text[open_ + len("<answer>"):].strip()
    return None


def _prev_char(text: str, i: int) -> str:
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    return text[j] if j >= 0 else ""


def _balanced_end(text: str, start: int, opening: str, closing: str, budget: list[int]) -> int | None:
    """Index of the bracket closing the one at ``start`` (strings respected), or None. ``budget``
    holds the characters of interest this call may still visit (shared over the calls of a text)."""
    depth, quote, pos = 0, None, start
    while budget[0] > 0:
        m = _SPECIAL.search(text, pos)
        if m is None:
            return None
        budget[0] -= 1
        i, ch = m.start(), m.group()
        pos = i + 1
        if quote:
            if ch == "\\":
                pos = i + 2
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            if _prev_char(text, i) in "{[,:":
                quote = ch
        elif ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i
    return None


def decode(fragment: str):
    """A JSON value, or else a Python literal; None when neither reads."""
    try:
        return json.loads(fragment)
    except (ValueError, RecursionError):
        pass
    try:
        with warnings.catch_warnings():           # odd text compiles with syntax warnings
            warnings.simplefilter("ignore")
            return ast.literal_eval(fragment.strip())
    except Exception:              # literal_eval raises many kinds (SyntaxError, ValueError, MemoryError...)
        return None


def _balanced(text: str, opening: str, closing: str, kind: type) -> Iterator:
    starts, i, budget = 0, text.find(opening), [MAX_VISITS]
    while i >= 0 and starts < MAX_STARTS and budget[0] > 0:
        starts += 1
        end = _balanced_end(text, i, opening, closing, budget)
        value = decode(text[i:end + 1]) if end is not None else None
        if isinstance(value, kind):
            yield value
            i = text.find(opening, end + 1)
        else:
            i = text.find(opening, i + 1)


def _values(text: str | None, opening: str, closing: str, kind: type) -> Iterator:
    text = _text(text)
    for _, body in _FENCE.findall(text):
        yield from _balanced(body, opening, closing, kind)
    yield from _balanced(text, opening, closing, kind)


def json_objects(text: str | None) -> Iterator[dict]:
    """Objects (dicts) written in the text: fenced ones first, then any (see module docstring)."""
    try:
        yield from _values(text, "{", "}", dict)
    except RecursionError:
        return


def json_lists(text: str | None) -> Iterator[list]:
    """Arrays written in the text, like :func:`json_objects`."""
    try:
        yield from _values(text, "[", "]", list)
    except RecursionError:
        return


def find_key(obj: dict, *keys: str):
    """The value of the first of ``keys`` in ``obj`` (keys compared without case, spaces, ``_``, ``-``)."""
    norm = {re.sub(r"[\s_-]+", "", str(k).lower()): v for k, v in obj.items()}
    for key in keys:
        k = re.sub(r"[\s_-]+", "", key.lower())
        if k in norm:
            return norm[k]
    return None


def find_json(text: str | None, *keys: str) -> dict | None:
    """The first object in the text that has one of ``keys`` (any object when no key is given)."""
    try:
        for obj in json_objects(text):
            if not keys or find_key(obj, *keys) is not None:
                return obj
    except Exception:
        return None
    return None


def fences(text: str | None) -> list[tuple[str, str]]:
    """(language, body) of every ```` ``` ```` block."""
    return [(lang.lower(), body) for lang, body in _FENCE.findall(_text(text))]


# --- option letters -------------------------------------------------------------------------------

_LETTER_ALONE = re.compile(r"^[\W_]{0,3}(?:(?i:option|choice|answer)\s*)?\(?([A-Za-z])(\)|\]|[.:]|\s|$)")
_LETTER_SAID = re.compile(
    r"(?i:\b(?:(?:final|correct|best|right)\s+)?(?:answer|choice)(?:[\s_]*choice)?"
    r"|\b(?:correct|best|right|final|choose|chose|select|selected|pick)\s+(?:the\s+)?option)"
    r"(?i:\s+(?:is|would\s+be|should\s+be))?\s*[*\"']*\s*[:=\-]?[\s*\"'(\[]*([A-J])(?![A-Za-z0-9])")

_LETTER_KEYED = re.compile(r"(?i)[\"']?answer[_ ]?choice[\"']?\s*[:=]\s*[\"']?\(?([a-j])(?![a-z0-9])")


def _letter_in_value(value, letters: str) -> str | None:
    """The letter a short answer value states: "B", "b", "(B)", "B. text", "Option B"; else the
    last letter it says is the answer ("The answer is B")."""
    s = _text(value).strip().strip("*\"'`")
    m = _LETTER_ALONE.match(s)
    if m and m.group(1).upper() in letters:
        rest = s[m.end():]
        # "B", "(B)", "B. text", "B\n..." but not a sentence that opens with a one-letter word ("A patient ...")
        if m.group(2) not in (" ", "\t") or not rest.lstrip()[:1].isalpha():
            return m.group(1).upper()
    said = _LETTER_SAID.findall(s)
    if said and said[-1] in letters:
        return said[-1]
    return None


def option_letter(text: str | None, letters: str = LETTERS) -> str | None:
    """The option letter a model chose (upper case), or None."""
    try:
        text = strip_think(text)
        obj = find_json(text, "answer_choice", "answer", "choice", "option", "final_answer")
        if obj is not None:
            letter = _letter_in_value(find_key(obj, "answer_choice", "answer", "choice", "option", "final_answer"),
                                      letters)
            if letter:
                return letter
        keyed = [x.upper() for x in _LETTER_KEYED.findall(text) if x.upper() in letters]
        if keyed:
            return keyed[-1]
        tag = answer_tag(text)
        if tag is not None:
            letter = _letter_in_value(tag, letters)
            if letter:
                return letter
        said = [x for x in _LETTER_SAID.findall(text) if x in letters]
        if said:
            return said[-1]
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        for line in (lines[:1] + lines[-1:]) if lines else []:
            letter = _letter_in_value(line, letters) if len(line.strip()) <= 40 else None
            if letter:
                return letter
        return None
    except Exception:
        return None


# --- numbers --------------------------------------------------------------------------------------

def _number(token: str) -> int | float | None:
    try:
        value = float(_GROUP_SEP.sub("", token))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def numbers(text: str | None, skip_percent: bool = False) -> list[int | float]:
    """The numbers written in the text, in order (``skip_percent``: leave out those followed by %)."""
    text = _text(text)
    out = []
    for m in _NUMBER.finditer(text):
        if skip_percent and text[m.end():m.end() + 2].lstrip()[:1] == "%":
            continue
        value = _number(m.group())
        if value is not None:
            out.append(value)
    return out


def first_number(text: str | None) -> int | float | None:
    found = numbers(text)
    return found[0] if found else None


def last_number(text: str | None, skip_percent: bool = True) -> int | float | None:
    found = numbers(text, skip_percent=skip_percent)
    return found[-1] if found else None


def as_number(value) -> int | float | None:
    """A JSON value read as a number: ints and finite floats as they are, strings by their first
    number ("1,200 participants" -> 1200); booleans and anything else -> None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return (int(value) if value.is_integer() else value) if math.isfinite(value) else None
    if isinstance(value, str):
        return first_number(value)
    return None
