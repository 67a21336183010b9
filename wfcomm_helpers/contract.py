"""The HTTP contract of `wfcomm serve`, in one place: the server (:mod:`wfcomm_helpers.service`)
declares its routes from it and the client (:class:`~wfcomm_helpers.connection.HttpConnection`)
builds its requests and reads its errors from it.

- :data:`ROUTES`: each operation's method and path (the seed's paths, kept);
- :data:`ERRORS`: each error the service answers, the status it answers it with, and the
  ``X-Wfcomm-Error`` header naming it, so the client raises the same error type the Python API
  would (an event wait that timed out is told apart from an unknown id by that name, not by the
  text of its ``detail``);
- :data:`JSON_MEDIA_TYPE`: the one media type a request body may have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .runtime.errors import (
    DatabaseInUseError,
    DatabaseUnreachableError,
    InvalidInputError,
    NotStartedError,
    UnknownWorkflowError,
    WfcommError,
    WrongWorkflowTypeError,
)

#: The header that names the kit error a non-2xx answer carries.
ERROR_HEADER = "X-Wfcomm-Error"
#: Request bodies must be JSON: a web page cannot send this type without a CORS preflight.
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Route:
    """One operation: ``template`` in FastAPI's syntax, e.g. ``/workflows/{workflow_id}``."""

    method: str
    template: str

    def path(self, **segments: Any) -> str:
        """The path with each ``{name}`` replaced by ``segments[name]`` as one URL segment."""
        return self.template.format(**{k: quote(str(v), safe="") for k, v in segments.items()})


START_EVENTS = Route("POST", "/start-workflow-events/{workflow_id}/{n_steps}")
ALL_EVENTS = Route("GET", "/workflow-events/{workflow_id}/all")
GET_EVENT = Route("GET", "/workflow-events/{workflow_id}/{event_key}")
START_MESSAGING = Route("POST", "/start-workflow-messaging/{workflow_id}/{n_steps}")
SEND_MESSAGE = Route("POST", "/send-message/{workflow_id}")
START_STREAMING = Route("POST", "/start-workflow-streaming/{workflow_id}/{n_steps}")
READ_STREAM = Route("GET", "/workflow-stream/{workflow_id}")
FOLLOW_STREAM = Route("GET", "/workflow-stream/{workflow_id}/follow")
WORKFLOW = Route("GET", "/workflows/{workflow_id}")
HEALTH = Route("GET", "/health")

#: Server-Sent Events of FOLLOW_STREAM: one VALUE_EVENT per value (its ``id`` is the offset),
#: then one END_EVENT with ``{"next_offset": N, "closed": true}``.
VALUE_EVENT, END_EVENT = "value", "end"


class EventNotSetError(WfcommError):
    """An event wait over HTTP that timed out (the Python API returns ``None`` instead)."""

    http_status = 404

    def __init__(self, key: str) -> None:
        super().__init__(f"Event '{key}' not found or timeout reached")  # the seed's words


class UnsupportedMediaTypeError(WfcommError):
    """A request body that is not ``application/json``."""

    http_status = 415

    def __init__(self, media_type: str) -> None:
        super().__init__(
            f"The request body is {media_type or 'of no declared type'}, not {JSON_MEDIA_TYPE}: "
            f"send JSON with Content-Type: {JSON_MEDIA_TYPE}."
        )


class CrossSiteRequestError(WfcommError):
    """A request a web page of another site made (its browser said so in ``Origin``)."""

    http_status = 403

    def __init__(self, origin: str) -> None:
        super().__init__(
            f"Refused a request from the web page at {origin}: wfcomm serve answers only "
            "programs (the wfcomm command, httpie, curl), not other sites' pages."
        )


class ForeignHostError(WfcommError):
    """A request that reached the loopback address under another host name: a web page whose
    domain was re-pointed at 127.0.0.1 (DNS rebinding), so its ``Origin`` matches its ``Host``."""

    http_status = 403

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Refused a request for host {host!r} on the loopback address: wfcomm serve on "
            "127.0.0.1 answers only requests for 127.0.0.1, localhost or [::1]."
        )


class ServiceFailedError(WfcommError):
    """Something the service did not foresee; its log has the traceback."""

    http_status = 500


#: Every error the service answers with, by the name its ``X-Wfcomm-Error`` header carries.
ERRORS: dict[str, type[WfcommError]] = {
    cls.__name__: cls
    for cls in (
        InvalidInputError,
        UnknownWorkflowError,
        EventNotSetError,
        WrongWorkflowTypeError,
        UnsupportedMediaTypeError,
        CrossSiteRequestError,
        ForeignHostError,
        DatabaseInUseError,
        DatabaseUnreachableError,
        NotStartedError,
        ServiceFailedError,
        WfcommError,
    )
}


def error_name(error: WfcommError) -> str:
    """The header value for ``error``: its own class if the contract lists it, else the
    nearest listed base class."""
    for cls in type(error).__mro__:
        if cls.__name__ in ERRORS and ERRORS[cls.__name__] is cls:
            return cls.__name__
    return WfcommError.__name__


def error_from_answer(name: str, detail: str) -> WfcommError:
    """The error named ``name`` carrying the service's one-line ``detail``: the same type the
    Python API raises, so callers catch ``UnknownWorkflowError`` whichever way they went.
    The server already wrote the sentence, so the class's own constructor (which writes it
    from its parts) is bypassed."""
    cls = ERRORS.get(name, WfcommError)
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    return error
