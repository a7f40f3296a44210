"""The offline verifier stands alone: importing it loads neither Flask nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_verifier_loads_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, issuer.core.verify, issuer.core.trust, issuer.core.signing;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'werkzeug')];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_core_modules_import_only_the_standard_library_cryptography_and_cbor2() -> None:
    import ast
    from pathlib import Path

    import issuer.core

    allowed = set(sys.stdlib_module_names) | {"cryptography", "cbor2", "issuer", "__future__"}
    for path in Path(issuer.core.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, (path.name, roots)
            if "issuer" in roots:
                assert all(a.startswith("issuer.core") for a in [getattr(node, "module", "") or ""] if a), path.name
