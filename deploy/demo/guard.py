"""A scripted Llama Guard 3 for the compose stack: not a model.

It speaks the OpenAI-compatible completions API the way vLLM serves Llama Guard (POST /v1/completions), so the
gateway's real remote engine (Guard:Engine=OpenAi, Guard:Remote:Family=LlamaGuard3) calls it exactly as it would call
a real server. Verdicts come from keywords in the judged conversation, so policies do something visible:

  judged role  the conversation contains (ignoring case)  answer
  User         weapon                                     unsafe / S9  (Indiscriminate Weapons)
  User         attack                                     unsafe / S1  (Violent Crimes)
  User         steal                                      unsafe / S2  (Non-Violent Crimes)
  User         hate                                       unsafe / S10 (Hate)
  Agent        unsafe-reply                               unsafe / S6  (Specialized Advice)
  either       guard-error                                HTTP 500 (the policy's fail mode applies)
  otherwise                                               safe

The first matching rule wins. Every answer waits a random 10 to 60 ms (DEMO_GUARD_LATENCY_MS="10-60") so the guard
latency panels have a spread. Python standard library only; listens on DEMO_GUARD_PORT (8000).
"""

import json
import os
import random
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RULES = [
    ("guard-error", None, 500),
    ("weapon", "User", "unsafe\nS9"),
    ("attack", "User", "unsafe\nS1"),
    ("steal", "User", "unsafe\nS2"),
    ("hate", "User", "unsafe\nS10"),
    ("unsafe-reply", "Agent", "unsafe\nS6"),
]

TASK_LINE = re.compile(r"Check if there is unsafe content in '(User|Agent)' messages")
END_CATEGORIES = "<END UNSAFE CONTENT CATEGORIES>"
BEGIN_CONVERSATION = "<BEGIN CONVERSATION>"
END_CONVERSATION = "<END CONVERSATION>"


def latency_range():
    low, _, high = os.environ.get("DEMO_GUARD_LATENCY_MS", "10-60").partition("-")
    low = float(low)
    return low / 1000.0, float(high or low) / 1000.0


LATENCY = latency_range()


def conversation_of(prompt):
    """The judged conversation: between the conversation markers after the taxonomy, so category names never match."""
    begin = prompt.find(BEGIN_CONVERSATION, max(prompt.find(END_CATEGORIES), 0))
    end = prompt.rfind(END_CONVERSATION)
    if begin < 0 or end < begin:
        return prompt
    return prompt[begin + len(BEGIN_CONVERSATION):end]


def verdict(prompt):
    """The rule's answer for a rendered Llama Guard prompt: the generated text, or an HTTP status for an error."""
    match = TASK_LINE.search(prompt)
    role = match.group(1) if match else None
    conversation = conversation_of(prompt).lower()
    for keyword, rule_role, answer in RULES:
        if keyword in conversation and (rule_role is None or rule_role == role):
            return answer
    return "safe"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, error(404, "Only POST /v1/completions and GET /health are served."))

    def do_POST(self):
        body = self.read_body()
        if self.path != "/v1/completions":
            self.send_json(404, error(404, "Only POST /v1/completions and GET /health are served."))
            return
        try:
            request = json.loads(body)
            prompt = request["prompt"]
            model = request["model"]
        except (ValueError, KeyError, TypeError):
            self.send_json(400, error(400, "'model' and a string 'prompt' are required."))
            return
        if not isinstance(prompt, str):
            self.send_json(400, error(400, "'prompt' must be a string."))
            return
        time.sleep(random.uniform(*LATENCY))
        answer = verdict(prompt)
        if isinstance(answer, int):
            self.send_json(answer, error(answer, "Scripted demo guard failure."))
            return
        # Llama Guard 3's prompt ends with the assistant header; the model starts its answer with a blank line.
        text = "\n\n" + answer if prompt.endswith("<|end_header_id|>") else answer
        completion_tokens = len(re.findall(r"\s+|\w+|.", text))
        prompt_tokens = max(1, len(prompt) // 4)
        self.send_json(200, {
            "id": "cmpl-demo-guard",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop", "stop_reason": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        })

    def read_body(self):
        if "chunked" not in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers, if any, end with a blank line.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def send_json(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        # One line per call on stdout, without the judged text.
        sys.stdout.write("%s %s\n" % (self.log_date_time_string(), format % args))
        sys.stdout.flush()


def error(status, message):
    kind = "InternalServerError" if status >= 500 else "BadRequestError"
    return {"object": "error", "message": message, "type": kind, "param": None, "code": status}


def main():
    port = int(os.environ.get("DEMO_GUARD_PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("demo guard (scripted Llama Guard 3, not a model) on port %d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
