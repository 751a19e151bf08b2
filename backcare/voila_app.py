"""What `backcare app`'s Voila server needs beyond Voila's own options (loaded by that server
only: `backcare --help` never imports it).

Leaving or reloading a Voila page posts `/voila/api/shutdown/<kernel>` with the page's `_xsrf`
cookie as the form's `_xsrf` field (Voila's widget manager, on `beforeunload`). Voila's page is
not rendered through jupyter_server's templates, the only place that issues that cookie, so a
page opened with the token in its URL never gets one: every shutdown was refused
(`403 '_xsrf' argument missing from POST`, voila-dashboards/voila#1458) and each page load
left its kernel running. AppIdentityProvider issues the cookie with any page it lets in; the
XSRF check itself stays on, unchanged."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import PasswordIdentityProvider, User

XSRF_COOKIE = "_xsrf"  # tornado's name for it (the xsrf_cookie_name setting, not set by Voila)


class AppIdentityProvider(PasswordIdentityProvider):
    """Voila's identity provider (token or password), which also issues tornado's XSRF cookie
    to an authenticated GET that arrives without one: the page's shutdown request then carries
    a token the server accepts."""

    async def get_user(self, handler: Any) -> User | None:
        """The user of this request (None when not authenticated), as Voila decides it."""
        user = super().get_user(handler)
        if not isinstance(user, User | None):
            user = await user
        if (
            user is not None
            and handler.request.method in ("GET", "HEAD")
            and not handler.get_cookie(handler.settings.get("xsrf_cookie_name", XSRF_COOKIE))
        ):
            handler.current_user = user  # what prepare() sets next; tornado's xsrf_token reads it
            handler.xsrf_token  # noqa: B018 - reading it sets the cookie (tornado's double submit)
        return user
