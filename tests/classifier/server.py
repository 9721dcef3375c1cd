"""A small classifier service for tests/serve_classifier.rs: speaks the HTTP classifier
contract of docs/classifier.md with Python's http.server, nothing else.

It checks the request's shape (text, plan_hash, intents with name, description and examples)
and answers 400 when it does not fit. It classifies by counting the words a text shares with
each intent's description and examples; the best intent gets confidence 0.9 and every other
intent that shares a word is a runner-up at 0.05 (at most one). Texts holding special words
exercise the sidecar's fallback:
  "slowly"   answers after 3 s (past the sidecar's timeout);
  "nonsense" answers an intent the plan does not have;
  "broken"   answers 500.
It prints `listening on PORT` once it listens on 127.0.0.1 (PORT chosen by the system).
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def words(text):
    return {w for w in "".join(c.lower() if c.isalnum() else " " for c in text).split()}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        try:
            req = json.loads(self.rfile.read(length))
            text = req["text"]
            assert isinstance(text, str)
            assert isinstance(req["plan_hash"], str) and len(req["plan_hash"]) == 64
            intents = req["intents"]
            for i in intents:
                assert isinstance(i["name"], str)
                assert i["description"] is None or isinstance(i["description"], str)
                assert all(isinstance(e, str) for e in i["examples"])
        except (ValueError, KeyError, TypeError, AssertionError) as e:
            return self.answer(400, {"error": f"bad request: {e!r}"})
        said = words(text)
        if "broken" in said:
            return self.answer(500, {"error": "broken on purpose"})
        if "slowly" in said:
            time.sleep(3)
        if "nonsense" in said:
            return self.answer(200, {"intent": "no_such_intent", "confidence": 0.9})
        scored = []
        for i in intents:
            evidence = set()
            for t in [i["description"] or ""] + i["examples"]:
                evidence |= words(t)
            shared = len(said & evidence)
            if shared:
                scored.append((-shared, i["name"]))
        scored.sort()
        if not scored:
            return self.answer(200, {"intent": None, "confidence": 0.95, "runners_up": []})
        best = scored[0][1]
        runners = [{"intent": n, "confidence": 0.05} for _, n in scored[1:2]]
        self.answer(200, {"intent": best, "confidence": 0.9, "runners_up": runners,
                          "model": "word-overlap test classifier"})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
