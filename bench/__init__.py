"""Benchmarks of issuer, run with ``python -m bench [SECTION ...]`` (``make bench``).

Each section is a module with a ``TITLE`` and a ``run(settings)`` that prints its figures
and returns them as a JSON-ready dict, which is written to ``bench/out/<section>.json``.
"""
