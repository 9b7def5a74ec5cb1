"""One error shape for every 4xx and 5xx: ``application/problem+json`` (RFC 9457).

Every ``BiomatError`` maps here by its class, with its stable ``type`` as the problem
type; a filter-language error adds ``position`` and ``expected``; validation errors list
what was wrong where. An unexpected exception becomes a bare 500 (logged, never sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from biomatdb.errors import (
    BiomatError,
    NotFoundError,
    QueryError,
    SearchUnavailable,
    StructureError,
    UnitError,
    VocabularyError,
)

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("biomatdb.api")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def type_uri(code: str) -> str:
    """The problem type: a URN per stable error code (identifies, does not dereference)."""
    return f"urn:biomatdb:problem:{code}"


class Problem(BaseModel):
    """An RFC 9457 problem detail; extension members depend on ``type``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:biomatdb:problem:query-error",
                    "title": "Bad request",
                    "status": 400,
                    "detail": "expected a unit after 3",
                    "instance": "/api/v1/materials",
                    "position": 17,
                    "expected": ["UNIT"],
                }
            ]
        },
    )

    type: str = Field(
        "about:blank", description="A URN naming the kind of problem, e.g. urn:biomatdb:problem:not-found."
    )
    title: str = Field(description="Short summary of the HTTP status.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a human.")
    instance: str | None = Field(None, description="The path of the request.")
    position: int | None = Field(None, description="Filter errors: 0-based offset in the filter text.")
    expected: list[str] | None = Field(None, description="Filter errors: what would have been accepted there.")
    errors: list[dict[str, Any]] | None = Field(None, description="Validation errors: where and what.")


class ProblemError(StarletteHTTPException):
    """Raise anywhere in the API for a problem response with this status (an HTTPException,
    so that it passes through FastAPI's body reading as one)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}
        self.extensions = extensions


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": type_uri(code) if code else "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    elif instance is not None:  # refused before a request was made of the ASGI scope: its path
        body["instance"] = instance
    body.update({key: value for key, value in extensions.items() if value is not None})
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: BiomatError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, SearchUnavailable):
        return 503
    if isinstance(error, (QueryError, VocabularyError, UnitError, StructureError)):
        return 400
    return 400


async def _biomat_error(request: Request, error: BiomatError) -> Response:
    extensions: dict[str, Any] = {}
    if isinstance(error, QueryError):
        extensions = {"position": error.position, "expected": error.expected or None}
    return problem_response(request, status_of(error), error.message, code=error.type, **extensions)


async def _problem_error(request: Request, error: ProblemError) -> Response:
    return problem_response(
        request, error.status, error.detail, code=error.code, headers=error.headers, **error.extensions
    )


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    headers = getattr(error, "headers", None)
    if error.status_code == 405:
        # one path may be served by routes of several routers (GET /datasets/{id} is public,
        # DELETE a curator's): Starlette's Allow names the first route's methods only
        allow = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        headers = {**(headers or {}), "Allow": allow}
    return problem_response(request, error.status_code, str(error.detail), headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this request's path, and OPTIONS; HEAD
    wherever GET is (``biomatdb_api.head``)."""
    from starlette.routing import Match

    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.router.routes
        )
    ]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return [*allowed, "OPTIONS"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _too_long_query_parameter(errors: list[dict[str, Any]]) -> tuple[str, int] | None:
    """The first query parameter longer than its declared limit, and that limit, if any."""
    for raw in errors:
        loc = list(raw.get("loc", ()))
        if raw.get("type") == "string_too_long" and len(loc) >= 2 and loc[0] == "query":
            return str(loc[1]), int((raw.get("ctx") or {}).get("max_length", 0))
    return None


async def _validation_error(request: Request, error: RequestValidationError | ValidationError) -> Response:
    raw_errors = list(error.errors())
    too_long = _too_long_query_parameter(raw_errors)
    if too_long is not None:
        parameter, limit = too_long
        return problem_response(
            request,
            414,
            f"query parameter {parameter!r} is longer than its limit of {limit:,} characters",
            code="parameter-too-long",
            parameter=parameter,
            limit=limit,
        )
    errors = [
        {"loc": _jsonable(list(e.get("loc", ()))), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in raw_errors
    ]
    first: dict[str, Any] = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    return problem_response(request, 422, detail, code="validation-error", errors=errors)


async def _pool_exhausted(request: Request, error: Exception) -> Response:
    return problem_response(
        request,
        503,
        "the server is busy: every database connection is in use; try again shortly",
        code="busy",
        headers={"Retry-After": "5"},
    )


#: Seconds a client is told to wait (``Retry-After``) when a database cannot be reached.
DATABASE_RETRY_AFTER_S = 10


async def _database_error(request: Request, error: Exception) -> Response:
    """A database that cannot be reached (the primary or the read replica down, restarting, out
    of connections: ``biomatdb.db.database_unreachable``) is a 503 to retry, on every route, API
    and UI alike; so is SQLite's one writer, a write that waited its busy timeout out behind a
    long ingest. Any other driver error is unexpected."""
    from biomatdb.db import database_unreachable

    if database_unreachable(error):
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, type(error).__name__)
        return problem_response(
            request,
            503,
            "the database cannot be reached just now; try again shortly",
            code="database-unavailable",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )
    if "database is locked" in str(error):
        return problem_response(
            request,
            503,
            "the database is busy with another write (an ingest, most likely); try again shortly",
            code="busy",
            headers={"Retry-After": "30"},
        )
    return await _unexpected(request, error)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request, 500, "the server could not answer this request; the error was logged", code="internal-error"
    )


_Error = TypeVar("_Error", bound=Exception)


def _handle(app: FastAPI, kind: type[_Error], handler: Callable[[Request, _Error], Awaitable[Response]]) -> None:
    """``app.add_exception_handler``, typed: Starlette types every handler as taking any
    Exception, though it calls one only with an instance of the class it is registered for."""
    app.add_exception_handler(kind, cast(Callable[[Request, Exception], Awaitable[Response]], handler))


def install(app: FastAPI) -> None:
    """Route every error of the app to a problem response."""
    _handle(app, BiomatError, _biomat_error)
    _handle(app, ProblemError, _problem_error)
    _handle(app, StarletteHTTPException, _http_error)
    _handle(app, RequestValidationError, _validation_error)
    _handle(app, ValidationError, _validation_error)  # a query model built from parameters
    from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout

    _handle(app, PoolTimeout, _pool_exhausted)
    _handle(app, DBAPIError, _database_error)
    _handle(app, Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting these problem statuses."""
    return {status: {"description": _TITLES.get(status, "Error"), "model": Problem} for status in statuses}


def problem_content_in(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx/5xx response of the schema as problem+json (FastAPI would say application/json)."""
    schema = {"$ref": "#/components/schemas/Problem"}
    for path in openapi.get("paths", {}).values():
        for operation in path.values():
            answers = operation.setdefault("responses", {})
            answers.setdefault("500", {"description": _TITLES[500]})
            answers.setdefault("503", {"description": "Busy (every database connection in use) or a backend is down"})
            if operation.get("parameters"):  # any query string can be too long (biomatdb_api.limits.QueryStringLimit)
                answers.setdefault(
                    "414", {"description": "A query parameter, or the whole query string, is longer than its limit"}
                )
            for status, response in answers.items():
                refs = [media.get("schema", {}).get("$ref", "") for media in response.get("content", {}).values()]
                if status[0] in "45" and all(ref.endswith(("/Problem", "/HTTPValidationError")) for ref in refs):
                    response["content"] = {MEDIA_TYPE: {"schema": schema}}
                    if status == "422":
                        response["description"] = "The request's parameters or body did not validate"
    openapi.setdefault("components", {}).setdefault("schemas", {}).pop("HTTPValidationError", None)
    openapi["components"]["schemas"].pop("ValidationError", None)
    return openapi
