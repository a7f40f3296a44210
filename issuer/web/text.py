"""No page takes text that ``core.unicode.UNSTORABLE`` matches (NUL, lone surrogates): on
PostgreSQL a NUL in a search, a certificate number or a sign-in name was a 500. A path
with it names nothing (404); a query string or form field with it is a bad request (400),
before any view reads it."""

from __future__ import annotations

from flask import abort, request

from issuer.core.unicode import has_unstorable_text


def refuse_unstorable_text() -> None:
    if has_unstorable_text(list((request.view_args or {}).values())):
        abort(404)
    if has_unstorable_text([*request.args.keys(), *request.args.values()]):
        abort(400)
    if request.method == "POST" and has_unstorable_text([*request.form.keys(), *request.form.values()]):
        abort(400)
