"""Adapters that keep state: the key store (files under ``keys/``) and, later, the
database. The core never imports this package."""
