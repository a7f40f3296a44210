"""``issuer trust export`` (on the service's machine) and ``issuer trust pull`` (from a
running service), which refuses a bundle that goes back from the one saved before."""

from __future__ import annotations

import http.client
import json
import urllib.error
from pathlib import Path
from typing import Any

import click

import issuer.cli.client as client
from issuer.cli.admin import local
from issuer.cli.bundles import load_root, warn_about
from issuer.cli.options import service_url
from issuer.cli.output import fail, write_atomically
from issuer.core.errors import TrustError


@click.group()
def trust() -> None:
    """Trust bundles / 信任包."""


@trust.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
def trust_export(path: str) -> None:
    """Write the latest signed trust bundle to PATH (what GET /api/v1/trust-bundle serves)."""
    _, use = local()
    sequence, bundle = use.publishing.bundle()
    Path(path).write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    click.echo(f"wrote trust list {sequence} to {path}")


@trust.command("pull")
@click.argument("url", callback=service_url)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--root", "root_path", type=click.Path(exists=True, dir_okay=False), help="Pin this root certificate (PEM or DER)."
)
@click.option("--force", is_flag=True, help="Replace PATH even with an older trust list or another log.")
def trust_pull(url: str, path: str, root_path: str | None, force: bool) -> None:
    """Download the trust bundle of the service at URL (GET URL/api/v1/trust-bundle), check
    it (root signature of the trust list, every status list, the tree head) and save it to
    PATH, replacing it at once. A bundle already in PATH must not go backwards: the new
    trust list is not older, and the service proves (consistency proof) that its log extends
    the saved tree head. A status list or organization entry that does not check out is
    saved with a warning (it makes only that organization's verdicts unknown); a tree head
    that does not check out is refused. Exit 0 saved, 1 the answer is not a usable bundle or
    goes backwards (nothing written), 2 the service cannot be reached."""
    from issuer.core.trust import load_bundle

    pinned = load_root(root_path) if root_path else None
    data = client.trust_bundle(url)
    try:
        store = load_bundle(data, pinned_root=pinned)
    except TrustError as exc:
        fail(exc.line())
    bad_head = next((p for p in store.problems if p.part == "tree_head"), None)
    if bad_head is not None:
        fail(f"{bad_head.code or 'invalid_log_record'}: {bad_head.message_zh} / {bad_head.message}")
    unbound = next((p for p in store.problems if p.code == "invalid_manifest"), None)
    if unbound is not None:
        fail(f"rollback: {unbound.message_zh} / {unbound.message}")
    head = store.tree_head
    warn_about(store)
    if not force:
        refuse_going_back(Path(path), store, head, url)
    write_atomically(Path(path), [data])
    listed = store.trust_list
    size = f"tree size {head.tree_size}" if head else "no tree head"
    click.echo(
        f"saved {path}: trust list {listed.sequence}, {len(listed.organizations)} organizations, "
        f"{len(store.status_lists)} status lists, {size}{'' if pinned else ' (root not pinned: use --root)'}"
        f" / 已保存信任包"
    )


def refuse_going_back(path: Path, store: Any, head: Any, url: str) -> None:
    """What was saved before is the floor: an older trust list, a bundle without the tree
    head or manifest the saved one had, an older manifest, an organization's status list older
    than the saved one, a smaller tree, or a tree the service cannot prove extends the saved
    one is refused (a rollback, or a forked log)."""
    from issuer.core import merkle
    from issuer.core.trust import load_bundle

    try:
        saved = load_bundle(path.read_bytes())
    except (OSError, TrustError):
        return  # nothing usable was saved
    before = saved.tree_head
    if saved.trust_list.sequence > store.trust_list.sequence:
        fail(
            f"rollback: the service's trust list {store.trust_list.sequence} is older than the saved "
            f"{saved.trust_list.sequence} (--force to replace) / 服务的信任列表比已保存的旧"
        )
    if before is not None and head is None:
        fail("rollback: the saved bundle has a tree head, the service's has none (--force to replace) / 信任包缺少树头")
    if saved.manifest is not None and (store.manifest is None or store.manifest.issued_at < saved.manifest.issued_at):
        fail(
            "rollback: the service's bundle manifest is missing or older than the saved one (--force to replace) "
            "/ 服务的信任包清单缺失或比已保存的旧"
        )
    for code, listed in saved.status_lists.items():
        new = store.status_lists.get(code)
        if new is not None and new.issued_at < listed.issued_at:
            fail(
                f"rollback: the status list of {code} is older than the saved one (--force to replace) "
                f"/ 机构{code}的状态列表比已保存的旧"
            )
    if before is None or head is None or before.tree_size == 0:
        return
    if head.tree_size < before.tree_size or (head.tree_size == before.tree_size and head.root_hash != before.root_hash):
        fail(f"rollback: the log is not the one saved (size {before.tree_size}) / 日志与已保存的不一致")
    if head.tree_size == before.tree_size:
        return
    try:
        proof = client.consistency_proof(url, before.tree_size, head.tree_size)
        merkle.verify_consistency(
            before.tree_size, head.tree_size, before.root_hash, head.root_hash, proof, head.tree_hash
        )
    except urllib.error.HTTPError as exc:
        exc.close()  # its connection, or the socket is left open
        fail(
            f"rollback: the service does not prove that its log extends the saved tree head of size "
            f"{before.tree_size} (HTTP {exc.code}) / 服务无法证明其日志是已保存日志的延续"
        )
    except (OSError, ValueError, KeyError, TypeError, http.client.HTTPException, TrustError):
        fail(
            f"rollback: the service does not prove that its log extends the saved tree head of size "
            f"{before.tree_size} / 服务无法证明其日志是已保存日志的延续"
        )
