"""Error pages: every HTTP error as an HTML page (with its headers, e.g. ``Retry-After``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

_TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
}


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    return Template(
        "error.html",
        context={
            "status": status,
            "title": _TITLES.get(status, "Error"),
            "detail": exc.detail if status < 500 else "Something went wrong on our side.",
            "login": status == 401,
            "path": request.url.path,
        },
        status_code=status,
        headers=headers,
    )
