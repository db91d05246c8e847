"""`--rewriter openai` over HTTP: against small local servers that misbehave on purpose (fast),
and against llama-cpp-python's real OpenAI-compatible server running SmolLM2 (slow)."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.rewriters import make_rewriter
from agent.rewriters.answer import generation_schema
from retrieval.catalogues.schema import fmnist_schema

pytest.importorskip("langchain_openai", reason="langchain-openai is not installed")

DIALOGUE = ["a striped shirt in orange", "with polka dots", "make it banana-coloured"]


def _found(rewrite) -> list[tuple[str, str, str]]:
    return [(c.attribute, c.value, c.polarity) for c in rewrite.constraints]


def _completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


@pytest.fixture
def capture_server():
    """An OpenAI-compatible endpoint that records each request body and answers one JSON."""
    bodies = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = _completion(
                '{"constraints": [{"value": "dotted", "attribute": "pattern", "polarity": "require"}]}'
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", bodies
    server.shutdown()
    server.server_close()


def _listener(mode: str):
    """A socket that accepts connections and then never answers ("hang") or answers one
    byte a second ("drip")."""
    sock = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.settimeout(0.2)
            reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}"
            for byte in reply if mode == "drip" else b"":
                if stop.wait(1.0):
                    break
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    break
            stop.wait()
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/v1", stop, thread


def _openai(monkeypatch, base_url: str, timeout_s: float):
    monkeypatch.setenv("CIRCHAT_LLM_BASE_URL", base_url)
    monkeypatch.setenv("CIRCHAT_LLM_MODEL", "smollm2")
    return make_rewriter("openai", None, fmnist_schema(), timeout_s=timeout_s)


def test_the_schema_goes_on_the_wire_as_llama_cpps_json_object_format(monkeypatch, capture_server):
    url, bodies = capture_server
    rewrite = _openai(monkeypatch, url, 5).rewrite("with polka dots")
    assert rewrite.fallback_reason is None and rewrite.rewriter == "llm:openai:smollm2"
    assert _found(rewrite) == [("pattern", "dotted", "require")]
    (body,) = bodies
    assert body["model"] == "smollm2" and body["temperature"] == 0
    assert body["response_format"] == {
        "type": "json_object",
        "schema": generation_schema(fmnist_schema(), caption=True),
    }
    assert body["messages"][-1] == {
        "role": "user",
        "content": "<feedback>with polka dots</feedback>",
    }


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_a_silent_or_dripping_endpoint_is_cut_at_the_deadline(monkeypatch, mode):
    url, stop, server_thread = _listener(mode)
    rewriter = _openai(monkeypatch, url, 1.5)
    threads = threading.active_count()
    start = time.monotonic()
    rewrite = rewriter.rewrite("with polka dots")
    took = time.monotonic() - start
    stop.set()
    assert rewrite.fallback_reason == "LLM timed out after 1.5 s"
    assert _found(rewrite) == [("pattern", "dotted", "require")]
    assert 1.4 < took < 2.5
    assert threading.active_count() == threads  # nothing of the call is left running
    server_thread.join(2)


def test_calls_beyond_the_bound_fall_back_at_once_on_a_hung_endpoint(monkeypatch):
    url, stop, _ = _listener("hang")
    rewriter = _openai(monkeypatch, url, 1.0)
    results = {}
    workers = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, rewriter.rewrite(f"red {i}")))
        for i in range(2)
    ]
    for w in workers:
        w.start()
    time.sleep(0.3)
    start = time.monotonic()
    third = rewriter.rewrite("a blue one")
    assert time.monotonic() - start < 0.3
    assert third.fallback_reason == "LLM busy: 2 calls already in flight"
    for w in workers:
        w.join()
    stop.set()
    assert [results[i].fallback_reason for i in range(2)] == ["LLM timed out after 1 s"] * 2


def test_cli_rewrite_json_says_why_an_llm_fell_back(capsys, monkeypatch, trained_encoder):
    from ui.cli import main

    monkeypatch.setenv("CIRCHAT_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    assert main(["rewrite", "with polka dots", "--rewriter", "openai", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["constraints"] == [
        {"attribute": "pattern", "value": "dotted", "polarity": "require"}
    ]
    assert out["fallback_reason"].startswith("LLM call failed: ")
    assert out["fallback_reason"].endswith("Connection error.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def llama_server():
    """llama-cpp-python's OpenAI-compatible server with SmolLM2 on a free localhost port."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    from agent.rewriters.chat_models.local import packaged_smollm2_path

    try:
        path = packaged_smollm2_path()
    except ValueError as err:
        pytest.skip(str(err))
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(path)]
    command += ["--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", "4096", "--n_threads", "2", "--n_threads_batch", "2"]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    server = subprocess.Popen(
        command + ["--verbose", "False"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"llama_cpp.server did not start: {server.stderr.read().decode()[-2000:]}")
    yield url, server
    server.kill()
    server.wait(10)


@pytest.mark.slow
def test_a_dialogue_against_a_real_llama_cpp_server(monkeypatch, llama_server):
    url, server = llama_server
    rewriter = _openai(monkeypatch, url, 60)  # the first call evaluates the whole prompt
    answers = [rewriter.rewrite(text) for text in DIALOGUE[:2]]
    assert rewriter.calls == 2
    for rewrite in answers:  # the schema held: a real answer, parsed and validated
        assert rewrite.fallback_reason is None and rewrite.rewriter == "llm:openai:smollm2"
        assert set(rewrite.sources.values()) <= {"llm:openai:smollm2"}
    server.kill()  # the endpoint dies mid-dialogue
    server.wait(10)
    dead = rewriter.rewrite(DIALOGUE[2])
    assert dead.fallback_reason.startswith("LLM call failed: ")
    assert dead.rewriter == "rules" and ("color", "yellow", "require") in _found(dead)
    again = _openai(monkeypatch, url, 60)  # a replay of the same turns: all from the cache
    assert [again.rewrite(text) for text in DIALOGUE[:2]] == answers
    assert again.calls == 0


@pytest.mark.slow
def test_the_cli_against_a_real_llama_cpp_server(
    capsys, monkeypatch, llama_server, trained_encoder
):
    from ui.cli import main

    url, _ = llama_server
    _openai(monkeypatch, url, 60).warm_up()  # the server keeps the evaluated prompt
    argv = ["rewrite", "make it red with longer sleeves", "--rewriter", "hybrid:openai", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fallback_reason"] is None  # the LLM was asked about "longer sleeves" and answered
    assert out["constraints"][0] == {"attribute": "color", "value": "red", "polarity": "require"}


def test_the_client_is_built_on_the_http_library_the_installed_openai_uses():
    """openai moved from httpx/httpcore to httpx2/httpcore2: the deadline transport is made
    for whichever it uses, and ChatOpenAI gets its timeout as a plain number."""
    import openai

    from agent.rewriters.chat_models.openai_compatible import http_library, openai_chat

    http, core = http_library()
    assert isinstance(openai.DefaultHttpxClient(), http.Client)
    assert core.__name__ == http.__name__.replace("httpx", "httpcore")
    chat = openai_chat(2.5)
    assert chat.request_timeout == 2.5 and isinstance(chat.http_client, http.Client)


@pytest.mark.parametrize("spec", ["openai", "hybrid:openai"])
def test_a_client_that_cannot_be_built_leaves_the_rules_with_one_line(monkeypatch, caplog, spec):
    """The break of openai 3.x (a client refusing the timeout it was handed) must not stop
    the app at start-up: the rules rewrite every message and one line says why."""
    import langchain_openai

    from agent.rewriters import RuleRewriter

    def refuse(**_):
        raise TypeError("Invalid timeout: expected a number, None, a tuple or httpx2.Timeout")

    monkeypatch.setattr(langchain_openai, "ChatOpenAI", refuse)
    with caplog.at_level("WARNING"):
        rewriter = make_rewriter(spec, None, fmnist_schema())
    assert type(rewriter) is RuleRewriter
    (line,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "\n" not in line and line.startswith(f"--rewriter {spec.split(':')[-1]}: ")
    assert "the OpenAI-compatible client cannot be built: Invalid timeout" in line
    assert line.endswith("the rules rewrite every message instead")
