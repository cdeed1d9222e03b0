"""The web server of ``larseg scan``: a JSON API over :class:`~larseg.scan.session.ScanSession` and the page.

Run by :func:`serve` under uvicorn. Safe by default:

* it listens on 127.0.0.1 unless told otherwise, and answers only requests whose ``Host`` is the
  address it listens on (a DNS-rebinding page cannot reach it);
* every ``/api`` call needs the session's random token, as ``?token=`` or the ``X-Larseg-Token``
  header (compared in constant time); the page's own URL carries it, as Jupyter's does;
* requests never name files: events are numbers into the files given on the command line, and
  the static route serves the page's own two files by name only, so ``../`` and absolute paths
  get a 404;
* bodies are limited in size (:data:`MAX_BODY`) and validated (tool, class code, point counts,
  radius); an invalid request is answered ``{"error": "..."}`` with a 4xx status and changes
  nothing.

The API (``docs/scan.md`` documents every route; ``/api/openapi.json`` describes them):

=========================================  ======  ==============================================
``/api/info``                              GET     events, scanner, blind, classes, tools
``/api/events/{i}``                        GET     ids, file, entry, planes, done
``/api/events/{i}/planes/{p}/image``       GET     the non-zero pixels (flat index, value)
``/api/events/{i}/planes/{p}/labels``      GET     the hand labels and the progress counters
``/api/events/{i}/planes/{p}/network``     GET     network label and shower share per pixel
``/api/events/{i}/planes/{p}/truth``       GET     simulation truth per pixel
``/api/events/{i}/planes/{p}/edit``        POST    ``{tool, code, points, radius, pixels}``
``/api/events/{i}/planes/{p}/undo|redo``   POST    undo / redo the last edit of the plane
``/api/events/{i}/done``                   POST    ``{done: true|false}``
``/api/events/{i}/next``                   GET     ``?step=1|-1&order=index|uncertainty``
``/api/save``                              POST    rewrite the labels file now
=========================================  ======  ==============================================
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import socket
import sys
import webbrowser
from importlib import resources
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.gzip import GZipMiddleware

from larseg.errors import LarsegError
from larseg.scan.session import MAX_POINTS, MAX_RADIUS, TOOLS, ScanError, ScanSession

#: Largest request body accepted (bytes): a stroke of MAX_POINTS points is ~0.3 MB.
MAX_BODY = 2 << 20
STATIC = {"scan.js": "text/javascript; charset=utf-8", "scan.css": "text/css; charset=utf-8"}
TOKEN_HEADER = "x-larseg-token"


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool: Literal[TOOLS]  # type: ignore[valid-type]
    code: int = Field(ge=0, le=3, description="0 erase, 1 track, 2 shower, 3 ignore")
    points: list[tuple[float, float]] | None = Field(None, max_length=MAX_POINTS,
                                                     description="(row, col) points of a stroke or polygon, "
                                                                 "or the clicked pixel")
    radius: float = Field(0.0, ge=0, le=MAX_RADIUS, description="brush radius in pixels")
    pixels: list[int] | None = Field(None, max_length=4 << 20, description="flat row-major indices")


class Done(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(session: ScanSession, token: str, allowed_hosts: set[str] | None = None) -> FastAPI:
    """The ASGI application of a session (``allowed_hosts``: ``host[:port]`` values accepted; None: any)."""
    app = FastAPI(title="larseg scan", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.session = session

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = request.headers.get("host", "")
        if allowed_hosts is not None and host not in allowed_hosts:
            return _error(421, f"host {host!r} is not this server's address")
        path = request.url.path
        if path.startswith("/api/") or path == "/":
            given = request.headers.get(TOKEN_HEADER) or request.query_params.get("token") or ""
            if not secrets.compare_digest(given.encode(), token.encode()):
                return _error(403, "missing or wrong token: open the URL larseg scan printed (it has ?token=...)")
        if request.method in ("POST", "PUT", "PATCH"):
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return _error(411, "a Content-Length header is needed")
            if int(length) > MAX_BODY:
                return _error(413, f"request body of {length} bytes; at most {MAX_BODY}")
        return await call_next(request)

    app.add_middleware(GZipMiddleware, minimum_size=2048)

    @app.exception_handler(ScanError)
    async def scan_error(request: Request, exc: ScanError):
        return _error(exc.status, str(exc))

    @app.exception_handler(LarsegError)
    async def larseg_error(request: Request, exc: LarsegError):
        return _error(500, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"bad request: {where}: {first.get('msg', 'invalid')}")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index():
        return HTMLResponse(resources.files("larseg.scan").joinpath("static/index.html").read_text("utf-8"),
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        if name not in STATIC:
            return _error(404, "not found")
        body = resources.files("larseg.scan").joinpath(f"static/{name}").read_bytes()
        return Response(body, media_type=STATIC[name])

    @app.get("/api/info")
    def info():
        return session.info()

    @app.get("/api/events/{i}")
    def event(i: int):
        return session.event(i)

    @app.get("/api/events/{i}/planes/{p}/image")
    def image(i: int, p: int):
        return session.image(i, p)

    @app.get("/api/events/{i}/planes/{p}/labels")
    def labels(i: int, p: int):
        return session.labels(i, p)

    @app.get("/api/events/{i}/planes/{p}/network")
    def network(i: int, p: int):
        return session.network(i, p)

    @app.get("/api/events/{i}/planes/{p}/truth")
    def truth(i: int, p: int):
        return session.truth(i, p)

    @app.post("/api/events/{i}/planes/{p}/edit")
    def edit(i: int, p: int, body: Edit):
        return session.edit(i, p, body.tool, body.code, points=body.points, radius=body.radius, pixels=body.pixels)

    @app.post("/api/events/{i}/planes/{p}/undo")
    def undo(i: int, p: int):
        return session.undo(i, p)

    @app.post("/api/events/{i}/planes/{p}/redo")
    def redo(i: int, p: int):
        return session.undo(i, p, redo=True)

    @app.post("/api/events/{i}/done")
    def done(i: int, body: Done):
        return session.mark_done(i, body.done)

    @app.get("/api/events/{i}/next")
    def next_event(i: int, step: int = Query(1, ge=-1, le=1), order: Literal["index", "uncertainty"] = "index"):
        return session.next_event(i, step, order)

    @app.post("/api/save")
    def save():
        return session.save()

    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise LarsegError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _exit_cleanly(signum, frame) -> None:
    raise SystemExit(0)


def serve(session: ScanSession, host: str = "127.0.0.1", port: int = 0, *, open_browser: bool = True,
          token: str | None = None, log=print) -> None:
    """Serve ``session`` until interrupted (Ctrl-C or SIGTERM save the labels file; a kill loses nothing)."""
    import uvicorn  # the server: only when serving

    token = token or secrets.token_urlsafe(24)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    allowed = {f"{shown}:{port}"} | ({f"localhost:{port}"} if host in ("127.0.0.1", "::1") else set())
    if host in ("0.0.0.0", "::"):
        allowed = None  # listening everywhere on purpose (--host): any Host header
    app = create_app(session, token, allowed)
    url = f"http://{shown if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/?token={token}"
    log(f"larseg scan: {len(session.events)} events, labels in {session.store.path}; open {url}")
    sys.stdout.flush()
    if open_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again with the handlers
    # it found: these make that an ordinary exit, so that the labels file is saved below
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        session.close()
        sock.close()
