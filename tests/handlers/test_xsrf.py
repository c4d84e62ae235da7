"""XSRF as jupyter_server enforces it: a request authenticated by the login cookie
(as the browser's are) must carry the XSRF token to write; a token-authenticated
one (scripts, a hub service) need not."""

from __future__ import annotations

from http.cookies import SimpleCookie

from tornado.httpclient import HTTPClientError


async def test_cookie_authenticated_writes_need_the_xsrf_token(jp_fetch, tmp_path):
    """The token-authenticated answer sets the login cookie; with the cookie alone a
    read works and a write is refused until it carries the _xsrf cookie and header."""
    first = await jp_fetch("envmod", "site")
    cookie = SimpleCookie()
    for header in first.headers.get_list("Set-Cookie"):
        cookie.load(header)
    login = "; ".join(f"{k}={m.value}" for k, m in cookie.items() if k.startswith("username-"))
    assert login

    async def call(method: str, headers: dict) -> int:
        body = b'{"name": "bad name!"}' if method == "POST" else None
        try:
            response = await jp_fetch("envmod", "environments", method=method, body=body, headers=headers)
        except HTTPClientError as err:
            return err.code
        return response.code

    no_token = {"Authorization": "", "Cookie": login}
    assert await call("GET", no_token) == 200
    assert await call("POST", no_token) == 403
    with_xsrf = {"Authorization": "", "Cookie": f"{login}; _xsrf=tok3n", "X-XSRFToken": "tok3n"}
    assert await call("POST", with_xsrf) == 400  # past the XSRF check: our validation answers
