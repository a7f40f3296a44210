"""``python -m issuer.cli``: the ``issuer`` command."""

from issuer.cli import main

if __name__ == "__main__":
    main()
