"""The official Elasticsearch client with canned HTTP answers, through its own transport hook.

``scripted_client(rules)`` is a real ``Elasticsearch`` whose one node is a ``BaseNode`` subclass
(``node_class=``) that answers each request with the first rule matching its method and path:
the client's own serialisation, retries, error mapping and the bulk helper's retries all run as
they do against a server. This tests how BiomatDB handles answers; it says nothing of what a
server would answer, which is what the golden pairs (``tests/data/elastic/*.json``) record and
the real-server suite (tests/test_search_elastic.py) confirms on a node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

GOLDEN = Path(__file__).parent / "data" / "elastic"

#: an answer: (status, body), an exception to raise, or a function of the request making one
Answer = tuple[int, Any] | BaseException | Callable[["Request"], "tuple[int, Any] | BaseException"]


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in (self.body or b"").splitlines() if line.strip()]


@dataclass
class Rule:
    """Requests with this method whose path matches ``path`` (a regex, from the start) get
    ``answers`` in turn; the last one repeats."""

    method: str
    path: str
    answers: list[Any]  # of Answer
    used: int = 0

    def matches(self, request: Request) -> bool:
        return request.method == self.method and re.match(self.path, request.path) is not None

    def next(self) -> Answer:
        answer = self.answers[min(self.used, len(self.answers) - 1)]
        self.used += 1
        return answer


@dataclass
class Script:
    rules: list[Rule]
    requests: list[Request] = field(default_factory=list)

    def answer(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        for rule in self.rules:
            if rule.matches(request):
                answer = rule.next()
                if callable(answer) and not isinstance(answer, BaseException):
                    answer = answer(request)
                if isinstance(answer, BaseException):
                    raise answer
                return answer
        return 400, {"error": {"type": "unscripted", "reason": f"{request.method} {request.path}"}, "status": 400}

    def sent(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.match(path, r.path)]


def scripted_client(rules: Iterable[Rule], **options: Any) -> tuple[Elasticsearch, Script]:
    """A real client whose node answers from ``rules``; ``options`` go to ``Elasticsearch(...)``."""
    script = Script(list(rules))

    class ScriptedNode(BaseNode):
        _CLIENT_META_HTTP_CLIENT = ("sc", "1")

        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
            status, payload = script.answer(Request(method, target, body))
            headers = HttpHeaders({"content-type": "application/json", "x-elastic-product": "Elasticsearch"})
            meta = ApiResponseMeta(status=status, http_version="1.1", headers=headers, duration=0.0, node=self.config)
            return NodeApiResponse(meta, json.dumps(payload).encode())

        def close(self) -> None:
            pass

    return Elasticsearch("http://scripted.invalid:9200", node_class=ScriptedNode, **options), script


def golden(name: str) -> dict[str, Any]:
    """A golden request/response pair (``tests/data/elastic/<name>.json``)."""
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def golden_answer(name: str, **names: str) -> tuple[int, Any]:
    """A golden pair's response, with ``{index}``, ``{alias}`` … filled in."""
    pair = golden(name)
    text = json.dumps(pair["response"]["body"])
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return pair["response"]["status"], json.loads(text)


def bulk_answer(refuse: Callable[[dict[str, Any], dict[str, Any] | None], tuple[int, Any] | None]) -> Callable:
    """A bulk answer computed from the request: each action is written (201, or 200 for a delete)
    unless ``refuse(action, source)`` gives its (status, error) instead."""

    def answer(request: Request) -> tuple[int, Any]:
        lines = request.ndjson()
        items, errors = [], False
        position = 0
        while position < len(lines):
            (operation, meta), *_ = lines[position].items()
            source = lines[position + 1] if operation in ("index", "create", "update") else None
            position += 2 if source is not None else 1
            refused = refuse({"op": operation, **meta}, source)
            item: dict[str, Any] = {"_index": meta.get("_index"), "_id": meta.get("_id")}
            if refused is None:
                item.update({"status": 200 if operation == "delete" else 201, "result": "created", "_version": 1})
                if operation == "delete":
                    item["result"] = "deleted"
            else:
                errors = True
                item.update({"status": refused[0], "error": refused[1]})
            items.append({operation: item})
        return 200, {"took": 1, "errors": errors, "items": items}

    return answer
