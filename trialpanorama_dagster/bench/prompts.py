"""The benchmark prompt of each task: the task's own chat (system + user turns) without the answer.

The task builders already render the reference's prompts (``builder(task).messages(record)``:
system, user, assistant); the benchmark sends the first two turns and scores what comes back.
Study search, screening and completion ask for a JSON object (the reference sends
``response_format={"type": "json_object"}`` for these three); the others ask for a fenced JSON
block in their system prompt.
"""
from __future__ import annotations

from dataclasses import replace

from ..tasks.registry import builder
from .types import Chat, Decoding

JSON_MODE_TASKS = frozenset({"study_search", "study_screening", "trial_completion_assessment"})


def chat_for(task: str, record: dict) -> Chat:
    """The system and user turns of ``record`` (the assistant turn is the answer and is dropped)."""
    turns = builder(task).messages(record)
    return [t for t in turns if t["role"] != "assistant"]


def decoding_for(task: str, base: Decoding) -> Decoding:
    return replace(base, json_mode=task in JSON_MODE_TASKS)
