"""A real loopback HTTP server shaped like an OpenAI-compatible chat endpoint, with scripted faults.

Usage::

    with OpenAITestServer(faults={"prompt:q2": ["429", "drop"]}, retry_after="0") as srv:
        backend = OpenAICompatBackend("test-model", base_url=srv.base_url)   # base_url = …/v1
        srv.chat_requests()    # ChatRequest(n, body, headers, fault, status) for every chat request

``POST /v1/chat/completions`` answers deterministically from the chat (:func:`answer_for`): a JSON
object echoing the last user message and its word count, with ``usage`` counting words (prompt: all
messages; completion: the answer). A body without ``model`` or with malformed ``messages`` gets a
400. ``require_key``: a request whose ``Authorization`` is not ``Bearer <key>`` gets a 401 that
echoes the header it got (as real providers do with a wrong key); ``reject_json_mode``: a request
with ``response_format`` gets a 400; ``delay``: seconds each answer waits (``max_in_flight`` then
says how many requests overlapped).

Faults: keys are an ``int`` n (the n-th request), ``"prompt:<last user message>"`` (requests for
that chat, whatever order the client's threads send them in) or ``"chat"`` (the next chat
requests); values are one kind or a list consumed in turn. Kinds: a 3-digit status (``"429"``
carries ``Retry-After``), ``"timeout"`` (sleeps ``timeout_sleep``, then answers), ``"truncated"``
(full Content-Length, half the body, close), ``"badjson"`` (a 200 with half the JSON and a matching
length), ``"nochoices"`` (a 200 JSON object without ``choices``), ``"drop"`` (close without
answering), ``"echo_auth"`` (a 401 whose body quotes the request's Authorization header).
"""
from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from trialpanorama_dagster.tasks import evidence_summary, sample_size_estimation, study_search

from .ctgov_server import write_response
from .registry_servers import _LoopbackServer

FAULT_KINDS = {"timeout", "truncated", "badjson", "nochoices", "drop", "echo_auth"}


@dataclass
class ChatRequest:
    n: int
    body: dict | None
    headers: dict[str, str]
    fault: str | None = None
    status: int | None = None
    keys: tuple = field(default=())

    @property
    def last_user(self) -> str:
        return last_user((self.body or {}).get("messages") or [])


def last_user(messages: list) -> str:
    users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return users[-1] if users else ""


def answer_for(messages: list) -> str:
    """The server's answer to a chat: JSON echoing the last user message and its word count."""
    text = last_user(messages)
    return json.dumps({"echo": text, "words": len(text.split())}, ensure_ascii=False)


class OpenAITestServer(_LoopbackServer):
    PREFIX = "/v1"
    FAULT_KINDS = FAULT_KINDS

    def __init__(self, faults: dict | None = None, *, retry_after: str = "0", timeout_sleep: float = 2.0,
                 delay: float = 0.0, require_key: str | None = None, reject_json_mode: bool = False):
        super().__init__(faults, timeout_sleep=timeout_sleep, retry_after=retry_after)
        self.delay, self.require_key, self.reject_json_mode = delay, require_key, reject_json_mode
        self.requests: list[ChatRequest] = []
        self.in_flight = self.max_in_flight = 0

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def chat_requests(self) -> list[ChatRequest]:
        with self._lock:
            return list(self.requests)

    def requests_for(self, prompt: str) -> list[ChatRequest]:
        return [r for r in self.chat_requests() if r.last_user == prompt]

    def _record_chat(self, body, headers: dict[str, str]) -> ChatRequest:
        with self._lock:
            messages = body.get("messages") if isinstance(body, dict) else None
            req = ChatRequest(len(self.requests) + 1, body if isinstance(body, dict) else None, headers)
            req.keys = (f"prompt:{last_user(messages if isinstance(messages, list) else [])}", "chat")
            self.requests.append(req)
            for key in (req.n, *req.keys):
                if self._faults.get(key):
                    req.fault = self._faults[key].pop(0)
                    break
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return req

    def complete(self, body) -> tuple[int, dict]:
        """(status, JSON answer) for one request body."""
        if not isinstance(body, dict) or not isinstance(body.get("model"), str) or not body["model"]:
            return 400, {"error": {"message": "you must provide a model parameter", "type": "invalid_request_error"}}
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages):
            return 400, {"error": {"message": "messages must be a list of {role, content}",
                                   "type": "invalid_request_error"}}
        if self.reject_json_mode and "response_format" in body:
            return 400, {"error": {"message": "response_format is not supported by this server",
                                   "type": "invalid_request_error"}}
        content = answer_for(messages)
        prompt_words = sum(len(m["content"].split()) for m in messages)
        return 200, {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
                     "model": body["model"],
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": prompt_words, "completion_tokens": len(content.split()),
                               "total_tokens": prompt_words + len(content.split())}}


def _handler(server: OpenAITestServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            req = server._record_chat(body, {k: v for k, v in self.headers.items()})
            try:
                self._serve(req, body)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
                self.close_connection = True
            finally:
                with server._lock:
                    server.in_flight -= 1

        def do_GET(self):  # noqa: N802
            self._json(None, 404, {"error": {"message": "not found"}})

        def _json(self, req, status: int, payload: dict, extra: dict | None = None) -> None:
            rec = req if req is not None else ChatRequest(0, None, {})
            write_response(self, rec, status, "application/json", json.dumps(payload).encode(), extra)

        def _serve(self, req: ChatRequest, body) -> None:
            fault = req.fault
            if self.path.split("?")[0] != f"{server.PREFIX}/chat/completions":
                return self._json(req, 404, {"error": {"message": f"no such endpoint {self.path}"}})
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault and fault.isdigit():
                extra = {"Retry-After": server.retry_after} if fault == "429" else None
                return self._json(req, int(fault), {"error": {"message": f"injected HTTP {fault}"}}, extra)
            auth = self.headers.get("Authorization", "")
            if fault == "echo_auth" or (server.require_key and auth != f"Bearer {server.require_key}"):
                return self._json(req, 401, {"error": {"message": f"Incorrect API key provided: {auth!r}. "
                                                       f"Request headers: {dict(self.headers.items())}",
                                                       "type": "invalid_request_error"}})
            if fault == "timeout":
                server._stop.wait(server.timeout_sleep)
            if server.delay:
                server._stop.wait(server.delay)
            status, payload = server.complete(body)
            if fault == "nochoices" and status == 200:
                payload = {"object": "error", "message": "injected answer without choices"}
            out = json.dumps(payload).encode()
            if fault == "truncated":
                write_response(self, req, status, "application/json", out[: len(out) // 2], declared=len(out),
                               close=True)
            elif fault == "badjson":
                write_response(self, req, status, "application/json", out[: len(out) // 2])
            else:
                write_response(self, req, status, "application/json", out)

    return Handler


# -- chats shaped as the benchmark sends them (system + user turns of real task records) ---------
SAMPLE_SIZE_QUESTIONS = [
    "A two-arm parallel randomized trial compares drug A with placebo for systolic blood pressure. "
    "Assuming a difference of 5 mmHg, a standard deviation of 12 mmHg, 80% power and a two-sided alpha "
    "of 0.05, how many participants are needed in total?",
    "Trial of early mobilisation after hip fracture: expected 30-day mortality 10% versus 5%, power 90%, "
    "alpha 0.05 two-sided. What total sample size is needed?",
    "Non-inferiority trial, margin 10%, expected response 70% in both arms, 80% power, one-sided alpha 0.025.",
]
SEARCH_SETUPS = [
    {"background": "Stroke is a leading cause of disability.", "objectives": "To assess antiplatelet therapy "
     "after acute ischaemic stroke.", "selection criteria": "Randomised trials comparing antiplatelet agents "
     "with placebo in adults with acute ischaemic stroke."},
    {"background": "Asthma exacerbations in children.", "objectives": "To compare inhaled corticosteroids.",
     "selection criteria": "RCTs in children under 12."},
]
EVIDENCE_ITEMS = [
    {"question": "Does exercise training improve six-minute walk distance in heart failure?",
     "options": {"A": "Yes, it improves", "B": "No difference", "C": "It worsens", "D": "Insufficient evidence"},
     "answer": "A"},
]


def task_chats() -> list[list[dict]]:
    """Chats (system + user) of a few sample-size, study-search and evidence-summary records, built by
    the task modules exactly as the benchmark renders them (the reference answer dropped)."""
    chats = [sample_size_estimation.messages({"question": q, "answer": 100})[:-1] for q in SAMPLE_SIZE_QUESTIONS]
    chats += [study_search.messages({"inputs": s})[:-1] for s in SEARCH_SETUPS]
    chats += [evidence_summary.messages(r)[:-1] for r in EVIDENCE_ITEMS]
    return chats
