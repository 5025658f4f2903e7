"""The generation cache with real backends: hits and misses counted at the loopback server, decoding
and model identity in the key, errors never stored, resuming after an interruption, duplicates,
threads, and a retrained checkpoint in the same folder missing the old entries."""
import threading

import pytest

from tests.support.openai_server import OpenAITestServer, answer_for, task_chats
from trialpanorama_dagster.bench.backends.openai_compat import OpenAICompatBackend
from trialpanorama_dagster.bench.backends.transformers_backend import TransformersBackend
from trialpanorama_dagster.bench.cache import GenerationCache, cache_key, cached_generate, model_identity
from trialpanorama_dagster.bench.types import Decoding, Generation
from trialpanorama_dagster.models.tiny import TinyShape, build_tiny_model

DEC = Decoding(max_new_tokens=64)


def chat(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def srv():
    with OpenAITestServer() as s:
        yield s


@pytest.fixture
def backend(srv):
    b = OpenAICompatBackend("cached-model", base_url=srv.base_url, env={}, backoff_base=0.01, backoff_max=0.05,
                            max_retries=1)
    yield b
    b.close()


class InterruptedBackend:
    """A real backend that is stopped (Ctrl-C) during its ``stop_at``-th batch, after the requests went out."""

    def __init__(self, inner, stop_at: int):
        self.inner, self.stop_at, self.calls = inner, stop_at, 0
        self.name, self.model = inner.name, inner.model

    def generate(self, chats, decoding, progress=None):
        self.calls += 1
        out = self.inner.generate(chats, decoding, progress)
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return out

    def close(self):
        pass


def test_hits_misses_and_decoding_in_the_key(tmp_path, srv, backend):
    chats = [chat(f"question {i}") for i in range(5)]
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        first = cached_generate(backend, chats, DEC, cache, chunk_size=2)
        assert len(srv.chat_requests()) == 5 and len(cache) == 5
        assert [g.text for g in first] == [answer_for(c) for c in chats] and not any(g.cached for g in first)
        done = []
        again = cached_generate(backend, chats, DEC, cache, progress=done.append)
        assert len(srv.chat_requests()) == 5 and done == [5]
        assert all(g.cached for g in again) and [g.text for g in again] == [g.text for g in first]
        assert [g.completion_tokens for g in again] == [g.completion_tokens for g in first]
        # another decoding is another key
        cached_generate(backend, chats, Decoding(max_new_tokens=64, temperature=0.7), cache)
        assert len(srv.chat_requests()) == 10
        # one new chat among old ones: only it is asked
        mixed = cached_generate(backend, chats + [chat("new one")], DEC, cache)
        assert len(srv.chat_requests()) == 11 and [g.cached for g in mixed] == [True] * 5 + [False]
    # the file persists across openings
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        assert all(g.cached for g in cached_generate(backend, chats, DEC, cache))
    assert len(srv.chat_requests()) == 11


def test_errors_are_not_cached(tmp_path, srv, backend):
    srv.set_faults({"prompt:flaky": ["500", "500"]})      # max_retries=1: both attempts fail
    chats = [chat("ok"), chat("flaky")]
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        first = cached_generate(backend, chats, DEC, cache)
        assert first[0].error is None and first[1].error and first[1].text == ""
        assert len(cache) == 1
        second = cached_generate(backend, chats, DEC, cache)
        assert second[0].cached and not second[1].cached and second[1].error is None
        assert len(srv.requests_for("ok")) == 1 and len(srv.requests_for("flaky")) == 3
        direct = Generation(text="", error="boom")
        assert cache.put_many([("k", direct)]) == 0 and cache.get_many(["k"]) == {}


def test_an_interrupted_run_resumes_without_recomputing(tmp_path, srv, backend):
    chats = [chat(f"trial {i}") for i in range(7)]
    path = tmp_path / "gen.sqlite"
    with GenerationCache(path) as cache, pytest.raises(KeyboardInterrupt):
        cached_generate(InterruptedBackend(backend, stop_at=3), chats, DEC, cache, chunk_size=2)
    assert len(srv.chat_requests()) == 6                   # chunks 1 and 2 stored, chunk 3 lost
    with GenerationCache(path) as cache:
        assert len(cache) == 4
        out = cached_generate(backend, chats, DEC, cache, chunk_size=2)
    asked = [r.last_user for r in srv.chat_requests()[6:]]
    assert sorted(asked) == ["trial 4", "trial 5", "trial 6"]
    assert [g.cached for g in out] == [True] * 4 + [False] * 3
    assert [g.text for g in out] == [answer_for(c) for c in chats]


def test_repeated_chats_are_generated_once(tmp_path, srv, backend):
    chats = [chat("a"), chat("b"), chat("a"), chat("a")]
    done = []
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        out = cached_generate(backend, chats, DEC, cache, progress=done.append)
    assert len(srv.chat_requests()) == 2 and sum(done) == 4
    assert [g.text for g in out] == [answer_for(c) for c in chats]
    assert out[0] is not out[2]
    assert cached_generate(backend, chats, DEC, None, chunk_size=1)[3].text == answer_for(chat("a"))


def test_key_parts_and_threads(tmp_path):
    c = chat("x")
    assert cache_key("openai:m", c, DEC) == cache_key("openai:m", [dict(c[0])], DEC)
    assert cache_key("openai:m", c, DEC) != cache_key("openai:n", c, DEC)
    assert cache_key("openai:m", c, DEC) != cache_key("openai:m", c, Decoding(max_new_tokens=64, json_mode=True))
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        def work(t):
            for i in range(40):
                cache.put_many([(f"{t}-{i}", Generation(text=f"{t}/{i}", completion_tokens=i))])
                assert cache.get_many([f"{t}-{i}"])[f"{t}-{i}"].text == f"{t}/{i}"
        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(cache) == 240
        assert cache.path.with_name("gen.sqlite-wal").exists()


def test_a_retrained_checkpoint_in_the_same_folder_misses(tmp_path):
    texts = [turn["content"] for c in task_chats() for turn in c]
    folder = build_tiny_model(tmp_path / "ckpt", texts)
    chats = task_chats()[:3]
    with GenerationCache(tmp_path / "gen.sqlite") as cache:
        b = TransformersBackend(str(folder), batch_size=2)
        before = model_identity(b)
        assert before.startswith(f"transformers:{folder}@")
        first = cached_generate(b, chats, Decoding(max_new_tokens=4), cache)
        assert b.generate_calls == 2 and not any(g.cached for g in first)
        again = cached_generate(b, chats, Decoding(max_new_tokens=4), cache)
        assert b.generate_calls == 2 and all(g.cached for g in again)
        build_tiny_model(folder, texts, TinyShape(seed=5))   # "retrained" into the same folder
        retrained = TransformersBackend(str(folder), batch_size=2)
        assert model_identity(retrained) != before
        fresh = cached_generate(retrained, chats, Decoding(max_new_tokens=4), cache)
        assert retrained.generate_calls == 2 and not any(g.cached for g in fresh)
