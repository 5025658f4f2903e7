"""The OpenAI-compatible backend against a real loopback server: request shape, order, usage,
retries on every fault kind, errors kept per prompt, concurrency and pacing, and the API key kept
out of logs, errors and repr. Also ``make_backend``'s choices and errors."""
import json
import logging
import time

import pytest

from tests.support.openai_server import OpenAITestServer, answer_for, task_chats
from trialpanorama_dagster.bench.backends import BackendUnavailable, make_backend
from trialpanorama_dagster.bench.backends.openai_compat import OpenAICompatBackend, redact_secret
from trialpanorama_dagster.bench.types import Backend, Decoding

SECRET = "sk-test-SECRET-8f3a2b"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


def chat(text: str) -> list[dict]:
    return [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": text}]


def backend(srv, env=None, **kw) -> OpenAICompatBackend:
    opts = {**FAST, "max_retries": 4, "timeout": 5.0, **kw}
    return OpenAICompatBackend("test-model", base_url=srv.base_url, env=env or {}, **opts)


def test_request_shape_order_usage_and_key_header():
    chats = task_chats()
    with OpenAITestServer() as srv:
        b = backend(srv, env={"MY_LLM_KEY": SECRET}, api_key_env="MY_LLM_KEY", max_concurrency=3)
        assert isinstance(b, Backend) and b.name == "openai" and b.model == "test-model"
        done = []
        gens = b.generate(chats, Decoding(temperature=0.0, top_p=0.9, max_new_tokens=4096, seed=7, json_mode=True),
                          progress=done.append)
        b.close()
        reqs = srv.chat_requests()
    assert [g.text for g in gens] == [answer_for(c) for c in chats]
    assert all(g.error is None and not g.cached and g.seconds > 0 for g in gens)
    for g, c in zip(gens, chats):
        assert g.prompt_tokens == sum(len(t["content"].split()) for t in c)
        assert g.completion_tokens == len(g.text.split())
    assert sum(done) == len(chats) and len(reqs) == len(chats)
    for r in reqs:
        assert r.headers["Authorization"] == f"Bearer {SECRET}"
        assert r.body["model"] == "test-model"
        assert (r.body["temperature"], r.body["top_p"], r.body["max_tokens"], r.body["seed"]) == (0.0, 0.9, 4096, 7)
        assert r.body["response_format"] == {"type": "json_object"}
        assert r.body["messages"] in chats


def test_no_key_no_header_and_base_url_from_env():
    with OpenAITestServer() as srv:
        b = OpenAICompatBackend("m", env={"OPENAI_BASE_URL": srv.base_url}, **FAST)
        assert b.base_url == srv.base_url and not b.has_api_key
        gens = b.generate([chat("hello there")], Decoding())
        b.close()
        (req,) = srv.chat_requests()
    assert gens[0].text == answer_for(chat("hello there"))
    assert "Authorization" not in req.headers and "response_format" not in req.body


@pytest.mark.parametrize("kinds", [["429", "500"], ["503", "drop"], ["truncated", "badjson"], ["timeout", "nochoices"]])
def test_faults_are_retried(kinds):
    prompts = [f"question {i}" for i in range(4)]
    with OpenAITestServer(faults={"prompt:question 2": kinds}, timeout_sleep=1.0) as srv:
        b = backend(srv, timeout=0.4)
        gens = b.generate([chat(p) for p in prompts], Decoding())
        b.close()
        tries = srv.requests_for("question 2")
    assert [g.text for g in gens] == [answer_for(chat(p)) for p in prompts]
    assert all(g.error is None for g in gens)
    assert [r.fault for r in tries] == [*kinds, None]


def test_retry_after_is_honoured():
    with OpenAITestServer(faults={"prompt:slow down": "429"}, retry_after="0.6") as srv:
        b = backend(srv, backoff_max=5.0)              # Retry-After is capped by backoff_max
        started = time.monotonic()
        gens = b.generate([chat("slow down")], Decoding())
        elapsed = time.monotonic() - started
        b.close()
    assert gens[0].error is None and elapsed >= 0.6


def test_a_prompt_that_keeps_failing_is_an_error_and_the_rest_complete(caplog):
    prompts = ["fine 1", "always broken", "fine 2", "bad request"]
    faults = {"prompt:always broken": ["500"] * 10, "prompt:bad request": "400"}
    with OpenAITestServer(faults=faults) as srv, caplog.at_level(logging.WARNING):
        b = backend(srv, max_retries=2)
        gens = b.generate([chat(p) for p in prompts], Decoding())
        b.close()
        broken, bad = srv.requests_for("always broken"), srv.requests_for("bad request")
    assert [g.text for g in gens] == [answer_for(chat("fine 1")), "", answer_for(chat("fine 2")), ""]
    assert gens[0].error is None and gens[2].error is None
    assert "failed after 3 attempts" in gens[1].error and "HTTP 500" in gens[1].error
    assert "HTTP 400" in gens[3].error
    assert len(broken) == 3 and len(bad) == 1          # a 4xx is not retried
    assert "gave up on chat 1" in caplog.text


def test_the_key_never_leaks(caplog):
    lines = []
    with OpenAITestServer(faults={"prompt:echo": "echo_auth", "prompt:flaky": ["500", "drop"]}) as srv, \
            caplog.at_level(logging.DEBUG):
        b = backend(srv, env={"OPENAI_API_KEY": SECRET}, log=lines.append)
        gens = b.generate([chat("echo"), chat("flaky"), chat("fine")], Decoding())
        shown = repr(b)
        b.close()
        (echoed,) = srv.requests_for("echo")
    assert echoed.status == 401 and echoed.headers["Authorization"] == f"Bearer {SECRET}"
    assert gens[0].text == "" and "HTTP 401" in gens[0].error and "***" in gens[0].error
    assert gens[1].error is None and gens[2].error is None
    assert lines and any("retry" in line for line in lines)
    for text in (gens[0].error, caplog.text, shown, *lines):
        assert SECRET not in text and "SECRET" not in text
    assert "api_key=set" in shown


def test_wrong_key_rejected_by_server_is_redacted():
    with OpenAITestServer(require_key="the-right-key") as srv:
        b = backend(srv, env={"OPENAI_API_KEY": SECRET})
        (gen,) = b.generate([chat("hi")], Decoding())
        b.close()
    assert "HTTP 401" in gen.error and SECRET not in gen.error
    assert redact_secret(f"Authorization: Bearer {SECRET}x", None) == "Authorization: Bearer ***"


def test_a_key_with_whitespace_is_refused_without_showing_it():
    with pytest.raises(ValueError) as info:
        OpenAICompatBackend("m", base_url="http://127.0.0.1:9/v1", env={"OPENAI_API_KEY": "sk-ab\ncd-SECRET"})
    assert "SECRET" not in str(info.value) and "OPENAI_API_KEY" in str(info.value)


def test_json_mode_can_be_switched_off_for_servers_that_reject_it():
    with OpenAITestServer(reject_json_mode=True) as srv:
        on, off = backend(srv), backend(srv, json_mode=False)
        rejected = on.generate([chat("x")], Decoding(json_mode=True))
        accepted = off.generate([chat("x")], Decoding(json_mode=True))
        on.close(), off.close()
    assert "response_format is not supported" in rejected[0].error
    assert accepted[0].error is None and accepted[0].text == answer_for(chat("x"))


def test_extra_body_adds_and_drops_fields():
    with OpenAITestServer() as srv:
        b = backend(srv, extra_body={"temperature": None, "reasoning_effort": "low"})
        b.generate([chat("x")], Decoding())
        b.close()
        (req,) = srv.chat_requests()
    assert "temperature" not in req.body and req.body["reasoning_effort"] == "low"


def test_concurrency_is_bounded_and_order_kept():
    prompts = [f"item {i}" for i in range(10)]
    with OpenAITestServer(delay=0.15) as srv:
        b = backend(srv, max_concurrency=3)
        started = time.monotonic()
        gens = b.generate([chat(p) for p in prompts], Decoding())
        elapsed = time.monotonic() - started
        b.close()
        peak = srv.max_in_flight
    assert [json.loads(g.text)["echo"] for g in gens] == prompts
    assert 2 <= peak <= 3
    assert elapsed < 10 * 0.15                          # overlapped, not one after another


def test_requests_per_minute_paces_all_threads():
    with OpenAITestServer() as srv:
        b = backend(srv, max_concurrency=4, requests_per_minute=400)     # one every 0.15 s
        started = time.monotonic()
        gens = b.generate([chat(f"p{i}") for i in range(5)], Decoding())
        elapsed = time.monotonic() - started
        b.close()
    assert all(g.error is None for g in gens) and elapsed >= 4 * 0.15 - 0.02


def test_make_backend_kinds_and_errors():
    with OpenAITestServer() as srv:
        b = make_backend("openai", "served-model", base_url=srv.base_url, env={})
        assert isinstance(b, OpenAICompatBackend) and b.model == "served-model"
        assert b.generate([chat("k")], Decoding())[0].text == answer_for(chat("k"))
        b.close()
    with pytest.raises(ValueError, match="unknown backend kind 'llamacpp'"):
        make_backend("llamacpp", "m")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailable, match=r"pip install -e '\.\[serve\]'"):
            make_backend("vllm", "m")
    else:
        import torch
        if not torch.cuda.is_available():
            with pytest.raises(BackendUnavailable, match="CUDA"):
                make_backend("vllm", "m")
