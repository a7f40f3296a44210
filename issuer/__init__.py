"""issuer: issue and verify signed vocational skill level certificates.

This package module is deliberately empty of imports: importing ``issuer.core`` (the
offline verifier) must not pull in Flask or SQLAlchemy. The web application lives in
``issuer.app``.
"""

__version__ = "0.1.0"
