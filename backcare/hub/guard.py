"""A server extension for a patient's single-user server: the checklist, nothing else.

Every URL under the server's base URL is refused with 403 unless it is one the checklist page
needs: the rendered checklist, Voila's and the server's static files, the websocket of a
kernel (widgets), Voila's kernel shutdown, and JupyterHub's login callback. JupyterLab, the
terminal, the contents, files, sessions, kernels and nbconvert APIs, and every other notebook
are refused, whatever extension would serve them. patient_server_config.py loads it, turns
JupyterLab and terminals off, and lets the kernels' websocket carry widget messages only (no
code execution from the page).

Routing: the refusing rule is put first in the application's router, ahead of every handler
the server or an extension registered."""

from __future__ import annotations

import re
from typing import Any

from tornado import web
from tornado.routing import AnyMatches, Rule

from backcare.resources import APP_NOTEBOOK

CHECKLIST = APP_NOTEBOOK.name  # the one notebook a patient's server renders (the spawner's copy)

# paths relative to the server's base URL (/user/NAME/), matched whole (query string apart)
ALLOWED = (
    "",  # redirects to the checklist (default_url)
    f"voila/render/{re.escape(CHECKLIST)}",
    "voila/static/.*",
    "voila/labextensions/.*",  # the widgets' JavaScript (ipywidgets, plotly, anywidget)
    "voila/templates/[^/]+/static/.*",
    "voila/api/shutdown/[^/]+",
    "static/.*",
    "api/kernels/[^/]+",  # the page's own kernel's model (the list of kernels is refused)
    "api/kernels/[^/]+/channels",
    "oauth_callback",
    "logout",
    "api",  # the server's version: JupyterHub asks it
)


def refused_pattern(base_url: str) -> str:
    """The regular expression of every path under base_url that is refused."""
    allowed = "|".join(ALLOWED)
    return f"{re.escape(base_url)}(?!(?:{allowed})$).*"


class Refuse(web.RequestHandler):
    """403 for every method, with a plain message (no page of the server behind it)."""

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: this server shows your checklist only\n")

    def check_xsrf_cookie(self) -> None:  # the refusal needs no XSRF token
        return None


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "backcare.hub.guard"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base_url = web_app.settings.get("base_url", "/")
    router = web._ApplicationRouter(web_app, [(refused_pattern(base_url), Refuse)])
    web_app.default_router.rules.insert(0, Rule(AnyMatches(), router))
    # Voila as an extension would point the page at MathJax on cdnjs; standalone Voila (and
    # `backcare app`) loads none: the checklist never contacts a third party
    web_app.settings["mathjax_url"] = None
    web_app.settings["mathjax_config"] = None
    serverapp.log.info("backcare: this server serves the checklist only (%s)", base_url)
