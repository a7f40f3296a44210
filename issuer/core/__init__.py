"""The domain core of ``issuer``: numbering, identity, catalogue, assessment, the signed
credential, trust and the offline verifier.

Rule: modules in this package import only the Python standard library, ``cryptography``
and ``cbor2``, and never read global state (configuration, clocks, Flask globals). An
auditor can install these alone and verify certificates offline. A test imports the
verifier in a fresh interpreter and asserts that neither ``flask`` nor ``sqlalchemy`` was
loaded.
"""
