"""How the service answers a refused or failed request: the status the contract gives the
error, ``{"detail": one line}``, and the error's name in the ``X-Wfcomm-Error`` header."""

from __future__ import annotations

import ipaddress

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ..contract import (
    ERROR_HEADER,
    JSON_MEDIA_TYPE,
    CrossSiteRequestError,
    ForeignHostError,
    ServiceFailedError,
    UnsupportedMediaTypeError,
    error_name,
)
from ..runtime.errors import InvalidInputError, WfcommError

#: Methods whose body changes something: their body must be JSON.
BODY_METHODS = {"POST", "PUT", "PATCH"}


def error_answer(error: WfcommError) -> JSONResponse:
    return JSONResponse(
        {"detail": str(error)},
        status_code=error.http_status,
        headers={ERROR_HEADER: error_name(error)},
    )


async def kit_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WfcommError)
    return error_answer(exc)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A parameter refused by :mod:`~wfcomm_helpers.service.params`: the check's own line."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidInputError):
        return error_answer(cause)
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_answer(InvalidInputError(f"{where}: {first.get('msg', 'invalid request')}"))


async def unforeseen(request: Request, exc: Exception) -> JSONResponse:
    """Any other exception: 500 with one line (the traceback goes to the server's log)."""
    text = str(exc).strip().splitlines()
    return error_answer(
        ServiceFailedError(
            f"wfcomm serve failed on {request.method} {request.url.path} ({type(exc).__name__}"
            f"{': ' + text[0] if text else ''}): its log has the details."
        )
    )


def _arrived_on_loopback(request: Request) -> bool:
    server = request.scope.get("server") or ("", 0)
    try:
        return ipaddress.ip_address(str(server[0])).is_loopback
    except ValueError:
        return False


def _names_loopback(host: str) -> bool:
    """Whether a ``Host`` header (``name[:port]``) names this machine's loopback."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def refuse_foreign_requests(request: Request) -> None:
    """A dependency of every route: a web page's request (its ``Origin`` names another site,
    or its host name was re-pointed at 127.0.0.1) is 403, a body that is not JSON 415. A page can POST ``text/plain`` to 127.0.0.1 without
    a CORS preflight; it cannot send ``application/json`` without one."""
    host = request.headers.get("host", "")
    if _arrived_on_loopback(request) and not _names_loopback(host):
        raise ForeignHostError(host)
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host')}":
        raise CrossSiteRequestError(origin)
    if request.method not in BODY_METHODS:
        return
    declared = request.headers.get("content-type")
    has_body = int(request.headers.get("content-length") or 0) > 0 or (
        "transfer-encoding" in request.headers
    )
    media_type = (declared or "").split(";")[0].strip().lower()
    if (declared is not None or has_body) and media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaTypeError(media_type)
