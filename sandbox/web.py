"""The HTTP plumbing shared by every Twilio endpoint: authentication, form parsing and validation,
ownership checks, pagination and the error boundary.

An endpoint is a plain synchronous function ``fn(ctx, **path_params) -> Reply`` wrapped by
:func:`api`; it raises :class:`~sandbox.errors.ApiError` for any failure. Running synchronously on
the event loop makes every request atomic with respect to the others and to scheduled events.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors

if TYPE_CHECKING:
    from .core import Sandbox

SID_RE = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
OBJECT_SID_RE = re.compile(r"^[a-zA-Z]{2}[0-9a-fA-F]{32}$")
SID_IN_PATH_RE = re.compile(r"(?<![A-Za-z])[A-Z]{2}[0-9a-fA-F]{32}(?![0-9a-fA-F])")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def path_template(path: str) -> str:
    """``/v1/CustomerProfiles/BU.../EntityAssignments`` -> ``/v1/CustomerProfiles/{Sid}/EntityAssignments``."""
    return SID_IN_PATH_RE.sub("{Sid}", path)


def basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if self.status == 204:
            return Response(status_code=204, headers=self.headers)
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


@dataclass
class Ctx:
    """One authenticated API request."""

    sb: "Sandbox"
    request: Request
    account_sid: str
    form: FormData
    query: QueryParams

    @property
    def base(self) -> str:
        return self.sb.base_url

    @property
    def path(self) -> str:
        return self.request.url.path

    def url(self, path: str) -> str:
        return self.base + path

    # ---- parameters --------------------------------------------------------------------------
    def text(self, name: str, *, required: bool = False, max_len: int | None = None,
            min_len: int | None = None, source: str = "form") -> str | None:
        params = self.form if source == "form" else self.query
        value = params.get(name)
        if value is None or (required and value == ""):
            if required:
                raise errors.missing(name)
            return None
        if max_len is not None and len(value) > max_len:
            raise errors.invalid(name, f"must be at most {max_len} characters (got {len(value)})")
        if min_len is not None and len(value) < min_len:
            raise errors.invalid(name, f"must be at least {min_len} characters (got {len(value)})")
        return value

    def values(self, name: str) -> list[str]:
        return list(self.form.getlist(name))

    def flag(self, name: str, *, required: bool = False, default: bool | None = None) -> bool | None:
        value = self.form.get(name)
        if value is None or value == "":
            if required:
                raise errors.missing(name)
            return default
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise errors.invalid(name, f"must be true or false (got {value!r})")

    def integer(self, name: str, *, lo: int | None = None, hi: int | None = None, source: str = "form") -> int | None:
        params = self.form if source == "form" else self.query
        value = params.get(name)
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            raise errors.invalid(name, f"must be an integer (got {value!r})") from None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise errors.invalid(name, f"must be between {lo} and {hi} (got {number})")
        return number

    def sid(self, name: str, prefix: str, *, required: bool = True) -> str | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        if not (SID_RE.match(value) and value.startswith(prefix)):
            raise errors.invalid(name, f"{value!r} does not match ^{prefix}[0-9a-fA-F]{{32}}$")
        return value

    def url_param(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and not URL_RE.match(value):
            raise errors.invalid(name, f"{value!r} is not a valid http(s) URL")
        return value

    def json_object(self, name: str) -> dict | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise errors.invalid(name, "must be a JSON object") from None
        if not isinstance(parsed, dict):
            raise errors.invalid(name, "must be a JSON object")
        return parsed

    def only(self, *allowed: str) -> None:
        """400 if the form carries a field the operation does not know (catches misspelt keys)."""
        unknown = sorted(set(self.form.keys()) - set(allowed))
        if unknown:
            raise errors.bad_request(f"Unknown parameter(s) {', '.join(unknown)} for {self.request.method} {self.path}")

    # ---- ownership ---------------------------------------------------------------------------
    def owned(self, kind: str, sid: str, path: str | None = None) -> dict:
        """The record ``sid`` of ``kind`` if it belongs to the authenticated account, else 404."""
        record = self.sb.store.get(kind, sid)
        if record is None or record.get("account_sid") != self.account_sid:
            raise errors.not_found(path or self.path)
        return record

    # ---- pagination --------------------------------------------------------------------------
    def page(self, records: Iterable[dict], key: str, serialize: Callable[[dict], dict],
             filters: dict[str, str | None] | None = None) -> Reply:
        """A Twilio v1 list page: ``{key: [...], "meta": {...}}`` with absolute page URLs.
        ``records`` come oldest first (as the store keeps them); Twilio lists newest first."""
        items = list(records)[::-1]
        size, number, start = self._paging()
        chunk = items[start:start + size]
        query = {k: v for k, v in (filters or {}).items() if v is not None}

        def page_url(n: int, offset: int | None = None) -> str:
            q = dict(query, PageSize=size, Page=n)
            if offset is not None:
                q["PageToken"] = f"PT{offset}"
            return f"{self.base}{self.path}?{urlencode(q)}"

        has_next = start + size < len(items)
        meta = {
            "first_page_url": page_url(0),
            "key": key,
            "next_page_url": page_url(number + 1, start + size) if has_next else None,
            "page": number,
            "page_size": size,
            "previous_page_url": page_url(number - 1, max(0, start - size)) if number > 0 else None,
            "url": page_url(number, start if number else None),
        }
        return Reply(200, {key: [serialize(r) for r in chunk], "meta": meta})

    def page_v2010(self, records: Iterable[dict], key: str, serialize: Callable[[dict], dict],
                   filters: dict[str, str | None] | None = None) -> Reply:
        """An API v2010 list page: ``{key: [...], start, end, page, page_size, *_page_uri}`` (relative URIs),
        newest first like :meth:`page`."""
        items = list(records)[::-1]
        size, number, start = self._paging()
        chunk = items[start:start + size]
        query = {k: v for k, v in (filters or {}).items() if v is not None}

        def page_uri(n: int, offset: int | None = None) -> str:
            q = dict(query, PageSize=size, Page=n)
            if offset is not None:
                q["PageToken"] = f"PT{offset}"
            return f"{self.path}?{urlencode(q)}"

        has_next = start + size < len(items)
        return Reply(200, {
            key: [serialize(r) for r in chunk],
            "end": start + max(len(chunk), 1) - 1,
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(number + 1, start + size) if has_next else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": page_uri(number - 1, max(0, start - size)) if number > 0 else None,
            "start": start,
            "uri": page_uri(number, start if number else None),
        })

    def _paging(self) -> tuple[int, int, int]:
        size = self.integer("PageSize", lo=1, hi=1000, source="query") or 50
        number = self.integer("Page", lo=0, source="query") or 0
        token = self.query.get("PageToken")
        if token:
            if not re.fullmatch(r"PT\d+", token):
                raise errors.invalid("PageToken", f"{token!r} is not a page token of this list")
            start = int(token[2:])
        else:
            start = number * size
        return size, number, start


Handler = Callable[..., Reply]


def api(fn: Handler) -> Callable[[Request], Any]:
    """Wrap a synchronous endpoint: authenticate, parse the form, map ApiError to Twilio's error body."""

    async def endpoint(request: Request) -> Response:
        sb: Sandbox = request.app.state.sandbox
        sb.started()
        sb.remember_base_url(request)
        try:
            credentials = basic_auth(request.headers.get("authorization"))
            account_sid = sb.authenticate(*credentials) if credentials else None
            if account_sid is None:
                raise errors.unauthorized()
            form = await request.form() if request.method in ("POST", "PUT") else FormData()
            ctx = Ctx(sb, request, account_sid, form, request.query_params)
            return fn(ctx, **request.path_params).response()
        except errors.ApiError as exc:
            return exc.response()
        finally:
            sb.store.commit()

    endpoint.__name__ = getattr(fn, "__name__", "endpoint")
    return endpoint


def route(path: str, fn: Handler, *methods: str) -> Route:
    return Route(path, api(fn), methods=list(methods))
