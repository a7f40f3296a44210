"""No page takes text that ``core.unicode.UNSTORABLE`` matches (NUL, lone surrogates): on
PostgreSQL a NUL in a search, a certificate number or a sign-in name was a 500. A path
with it names nothing (404); a query string or form field with it is a bad request (400),
before any view reads it."""

from __future__ import annotations

from flask import abort, request

from issuer.core.unicode import has_unstorable_text


def refuse_unstorable_text() -> None:
    """Every value of a repeated parameter is checked, not only the first a view would read."""
    if has_unstorable_text(list((request.view_args or {}).values())):
        abort(404)
    if has_unstorable_text(list(request.args.items(multi=True))):
        abort(400)
    if request.method == "POST" and has_unstorable_text(list(request.form.items(multi=True))):
        abort(400)
