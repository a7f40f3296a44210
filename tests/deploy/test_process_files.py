"""The sample process definitions of ``deploy/`` (docs/DEPLOY.md) held to the code they run:
every ``issuer`` command they start exists and takes the options given; every setting the
environment file names is one the service reads, each with a comment, none with a secret,
and together a configuration the service accepts once the secrets are set; the systemd
units stop within the time their processes take to stop gracefully and pass ``systemd-analyze
verify``; nginx's body limits are the service's upload limits and ``nginx -t`` accepts the
file (where systemd-analyze and nginx are installed)."""

from __future__ import annotations

import configparser
import inspect
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask

from issuer import config
from issuer.api.v1 import MAX_BATCH_UPLOAD
from issuer.app import create_app
from issuer.cli import main
from issuer.web.admin import MAX_APPEARANCE_UPLOAD
from tests.deploy.files import DEPLOY, NGINX, REPO, nginx_binary, self_signed, with_certificate

SYSTEMD = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "issuer.env.example"
INSTALLED = "/opt/issuer"
"""Where the units expect the release (docs/DEPLOY.md): ``/opt/issuer/.venv/bin/issuer``."""

PROCESSES = {"issuer-web.service": "serve", "issuer-worker@.service": "worker", "issuer-scheduler.service": "scheduler"}
SETTINGS = {f"ISSUER_{name}" for name in config.DEFAULTS} | {"ISSUER_INSTANCE_PATH"}
"""Every ``ISSUER_*`` variable the service reads: the table of issuer/config.py, and the
instance folder, which create_app reads before the app exists."""
SECRETS = ("ISSUER_SECRET_KEY", "ISSUER_KEY_PASSPHRASE", "ISSUER_DATA_KEY", "ISSUER_PKCS11_PIN")
TEST_SECRETS = {
    "ISSUER_SECRET_KEY": "a-test-secret-key-not-the-development-one",
    "ISSUER_KEY_PASSPHRASE": "a-test-passphrase-not-the-development-one",
    "ISSUER_DATA_KEY": "dGVzdC1kYXRhLWtleS10ZXN0LWRhdGEta2V5LTMyYnk=",
}


# --- reading the files ------------------------------------------------------------------------


def unit(path: Path) -> configparser.ConfigParser:
    """A systemd unit as configparser reads it (``strict=False``: a key given twice, such as
    ``ReadWritePaths``, keeps its last value; ``values`` reads them all)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys keep their case
    parser.read(path, encoding="utf-8")
    return parser


def values(path: Path, key: str) -> list[str]:
    """Every value of ``key`` in the unit, each split on white space (systemd's lists)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            found += value.split()
    return found


def environment_file(path: Path) -> Iterator[tuple[int, str, str, bool]]:
    """``(line number, name, value, commented out)`` of each setting of an environment file;
    ``#NAME=value`` is a setting shown with its default."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = re.fullmatch(r"(#)?([A-Z][A-Z0-9_]*)=(.*)", line)
        if found:
            yield number, found[2], found[3], bool(found[1])


def procfile() -> dict[str, str]:
    lines = (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(line.split(":", 1) for line in lines if line and not line.startswith("#"))


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: compose.yaml not read")
    found: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return found


def shell_defaults(command: str) -> str:
    """``${PORT:-8000}`` → ``8000``: what a Procfile runner's shell gives without the variable."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", command)


def issuer_argv(argv: list[str]) -> list[str] | None:
    """The arguments after ``issuer``, or ``None`` for a command that is not ``issuer``."""
    if not argv or Path(argv[0]).name != "issuer":
        return None
    return argv[1:]


def unit_commands() -> dict[str, list[str]]:
    """Each unit's ExecStart, split as systemd splits it (its ``-@:+!`` prefixes dropped)."""
    return {
        p.name: shlex.split(unit(p)["Service"]["ExecStart"].lstrip("-@:+!")) for p in sorted(SYSTEMD.glob("*.service"))
    }


def every_issuer_command() -> list[tuple[str, list[str]]]:
    """``(where, arguments)`` of every ``issuer`` command the process files run."""
    found = []
    for name, argv in unit_commands().items():
        args = issuer_argv(argv)
        if args is not None:
            found.append((f"systemd/{name}", args))
    for name, command in procfile().items():
        args = issuer_argv(shlex.split(shell_defaults(command)))
        assert args is not None, f"Procfile {name}: runs no issuer command"
        found.append((f"Procfile {name}", args))
    try:
        services = compose()["services"]
    except pytest.skip.Exception:
        services = {}
    for name, service in services.items():
        args = issuer_argv(list(service.get("command") or []))
        if args is not None:
            found.append((f"compose.yaml {name}", args))
    return found


# --- commands ---------------------------------------------------------------------------------


def _command(args: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """The subcommand ``args`` names (``db upgrade``), and the arguments left for it."""
    path: list[str] = []
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        path.append(rest.pop(0))
        command = command.commands[path[-1]]
    return path, command, rest


COMMANDS = every_issuer_command()


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_every_command_a_process_file_runs_exists_with_the_options_given(where: str, args: list[str]) -> None:
    path, command, rest = _command(args)
    assert path and not isinstance(command, click.Group), f"{where}: `issuer {' '.join(args)}` is no command"
    shown = CliRunner().invoke(main, [*path, "--help"])
    assert shown.exit_code == 0, f"{where}: {shown.output}"
    try:
        command.make_context(f"issuer {' '.join(path)}", rest)  # parses the options, runs nothing
    except click.ClickException as exc:
        pytest.fail(f"{where}: `issuer {' '.join(args)}`: {exc.format_message()}")


def test_each_kind_of_process_is_defined_in_every_format() -> None:
    units = {name: issuer_argv(argv) for name, argv in unit_commands().items()}
    for name, command in PROCESSES.items():
        assert (units[name] or [""])[0] == command, name
    assert {args[0] for args in map(shlex.split, procfile().values())} == {"issuer"}
    assert [shlex.split(c)[1] for c in procfile().values()] == ["serve", "worker", "scheduler"]
    assert "$" in procfile()["web"] and "--bind" in procfile()["web"]  # the port a runner gives


def test_compose_runs_the_reference_topology() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "scheduler"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "replicas" not in services["scheduler"].get("deploy", {})
    for name in ("web", "worker", "scheduler"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        mounted = {volume.split(":")[1] for volume in service["volumes"]}
        environment = service["environment"]
        assert {environment["ISSUER_KEYS_DIR"], environment["ISSUER_BATCH_DIR"]} <= mounted, name
        assert environment["ISSUER_QUEUE"] == "redis" and environment["ISSUER_REDIS_URL"].startswith("redis://redis")
        assert set(environment) - {"DATABASE_URL"} <= SETTINGS, name
    assert services["migrate"]["command"] == ["issuer", "db", "upgrade"]
    probe = " ".join(services["web"]["healthcheck"]["test"])
    assert "/readyz" in probe and ":8000/" in probe and "0.0.0.0:8000" in services["web"]["command"]
    assert {"pgdata", "redisdata", "keys", "batches"} <= set(compose()["volumes"])


# --- settings ---------------------------------------------------------------------------------


def test_every_setting_in_the_environment_file_is_one_the_service_reads() -> None:
    assert "ISSUER_INSTANCE_PATH" in inspect.getsource(create_app)
    named = [name for _, name, _, _ in environment_file(ENV_EXAMPLE)]
    unknown = [name for name in named if name.startswith("ISSUER_") and name not in SETTINGS]
    assert not unknown, f"not settings of issuer/config.py: {unknown}"
    assert set(named) - SETTINGS <= {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", "SOFTHSM2_CONF"}
    assert len(named) == len(set(named)), "a setting named twice"


def test_every_setting_of_the_service_is_in_the_environment_file_with_a_comment() -> None:
    named = {name for _, name, _, _ in environment_file(ENV_EXAMPLE)}
    missing = {name for name in SETTINGS if name not in named} - {"ISSUER_DATABASE_URL"}
    assert "DATABASE_URL" in named and not missing, f"not in issuer.env.example: {sorted(missing)}"
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    settings = {number for number, *_ in environment_file(ENV_EXAMPLE)}
    for number, name, _, _ in environment_file(ENV_EXAMPLE):
        above = number - 1
        while above in settings:  # settings of one comment (the two PINs, the rate limit)
            above -= 1
        assert lines[above - 1].startswith("# ") and len(lines[above - 1]) > 4, f"{name}: no comment above it"


def test_the_environment_file_holds_no_secret_and_is_refused_until_they_are_set() -> None:
    active = {name: value for _, name, value, commented in environment_file(ENV_EXAMPLE) if not commented}
    for name in SECRETS:
        assert name not in active, f"{name} is set in the example"
    assert active["ISSUER_ENV"] == "production"
    with pytest.raises(config.ConfigError, match="ISSUER_KEY_PASSPHRASE"):
        config.check(config.from_environment(active))
    config.check(config.from_environment({**active, **TEST_SECRETS}))  # a configuration it starts with
    assert active["ISSUER_QUEUE"] == "redis" and active["ISSUER_TRUSTED_PROXIES"] == "1"
    assert active["ISSUER_LOG_FORMAT"] == "json"


def test_compose_settings_are_accepted_over_the_environment_file() -> None:
    active = {name: value for _, name, value, commented in environment_file(ENV_EXAMPLE) if not commented}
    given = {k: str(v) for k, v in compose()["services"]["web"]["environment"].items()}
    config.check(config.from_environment({**active, **TEST_SECRETS, **given}))


# --- systemd ----------------------------------------------------------------------------------


def _graceful_timeout(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        if arg == "--graceful-timeout":
            return int(argv[i + 1])
        if arg.startswith("--graceful-timeout="):
            return int(arg.split("=", 1)[1])
    default = next(p for p in main.commands["serve"].params if p.name == "graceful_timeout").default
    return int(default)  # type: ignore[arg-type]


def _seconds(value: str) -> int:
    found = re.fullmatch(r"(\d+)\s*(s|min)?", value.strip())
    assert found, value
    return int(found[1]) * (60 if found[2] == "min" else 1)


@pytest.mark.parametrize("name", list(PROCESSES))
def test_a_unit_runs_as_the_service_user_hardened_with_the_settings_file(name: str) -> None:
    service = unit(SYSTEMD / name)["Service"]
    assert (service["User"], service["Restart"], service["EnvironmentFile"]) == (
        "issuer",
        "on-failure",
        "/etc/issuer/issuer.env",
    )
    assert service["ExecStart"].startswith(f"{INSTALLED}/.venv/bin/issuer ")
    assert (service["NoNewPrivileges"], service["ProtectSystem"], service["PrivateTmp"]) == ("yes", "strict", "yes")
    assert (service["KillSignal"], service["KillMode"]) == ("SIGTERM", "mixed")
    writable = values(SYSTEMD / name, "ReadWritePaths")
    settings = {name: value for _, name, value, _ in environment_file(ENV_EXAMPLE)}
    assert settings["ISSUER_BATCH_DIR"] in writable, "the batches folder must be writable"
    keys_writable = settings["ISSUER_KEYS_DIR"] in writable
    assert keys_writable == (name != "issuer-worker@.service"), "web and scheduler write keys; workers only read"
    assert service["StateDirectory"] == "issuer" and service["WorkingDirectory"] == "/var/lib/issuer"


def test_the_web_unit_reloads_with_hup_and_stops_after_the_graceful_timeout() -> None:
    service = unit(SYSTEMD / "issuer-web.service")["Service"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Type"] == "notify"  # gunicorn's master says READY=1 once bound
    graceful = _graceful_timeout(shlex.split(service["ExecStart"]))
    assert graceful < _seconds(service["TimeoutStopSec"]) <= graceful + 30
    web = compose()["services"]["web"]
    assert graceful < _seconds(web["stop_grace_period"]) and _graceful_timeout(web["command"]) == graceful


def test_the_backup_unit_runs_the_backup_script_daily() -> None:
    service = unit(SYSTEMD / "issuer-backup.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == f"{INSTALLED}/deploy/backup.sh" and (DEPLOY / "backup.sh").stat().st_mode & 0o111
    destination = argv[-1]
    assert values(SYSTEMD / "issuer-backup.service", "ReadWritePaths") == [destination]
    assert unit(SYSTEMD / "issuer-backup.timer")["Timer"]["Persistent"] == "true"


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "issuer").exists()
    copies = []
    for path in sorted(SYSTEMD.iterdir()):
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"{INSTALLED}/.venv/bin/", f"{venv_bin}/").replace(f"{INSTALLED}/deploy/", f"{DEPLOY}/")
        copy = tmp_path / path.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    run = subprocess.run(
        [analyze, "verify", *map(str, copies)], capture_output=True, text=True, timeout=60, check=False
    )
    # verify exits 0 on unknown keys and bad values too; it names the file in its warning.
    ours = [line for line in (run.stdout + run.stderr).splitlines() if str(tmp_path) in line or "issuer-" in line]
    assert run.returncode == 0 and not ours, run.stdout + run.stderr


def test_shellcheck_finds_nothing_in_the_scripts() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed")
    scripts = [str(DEPLOY / "backup.sh"), str(DEPLOY / "restore.sh"), str(DEPLOY / "env.sh")]
    run = subprocess.run([shellcheck, "-x", *scripts], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout


# --- nginx ------------------------------------------------------------------------------------


def _bytes(value: str) -> int:
    found = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower())
    assert found, value
    return int(found[1]) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[found[2]]


@dataclass(frozen=True)
class Location:
    modifier: str
    """``=`` (exact), ``~`` (regular expression), ``""`` (prefix), ``@`` (named)."""
    pattern: str
    body: str


def nginx_locations(server: str) -> list[Location]:
    """The ``location`` blocks of a server block (none nested), in order."""
    found = re.finditer(r"^    location (?:(=|~|@) ?)?(\S+) \{\n(.*?)^    \}", server, re.M | re.S)
    return [Location(m[1] or "", m[2], m[3]) for m in found]


def nginx_location(locations: list[Location], path: str) -> Location | None:
    """The location nginx picks for ``path``: an exact match; else the first regular
    expression that matches; else the longest prefix."""
    for found in locations:
        if found.modifier == "=" and found.pattern == path:
            return found
    for found in locations:
        if found.modifier == "~" and re.search(found.pattern, path):
            return found
    prefixes = [found for found in locations if found.modifier == "" and path.startswith(found.pattern)]
    return max(prefixes, key=lambda found: len(found.pattern), default=None)


def _directive(text: str, name: str) -> str | None:
    found = re.search(rf"^\s*{name} ([^;]+);", text, re.M)
    return found[1] if found else None


def _server(text: str) -> str:
    return text[text.index("listen 443") :]


def test_nginx_refuses_bodies_as_the_service_does_route_by_route(app: Flask) -> None:
    """Every route the service takes larger bodies on gets that limit from nginx, every
    other route the service's default; the refusal in the shape the service answers with:
    JSON for the API, a page for the pages."""
    server = _server(NGINX.read_text(encoding="utf-8"))
    locations, head = nginx_locations(server), server.split("    location", 1)[0]
    default = _directive(head, "client_max_body_size")
    assert default and _bytes(default) == config.DEFAULTS["MAX_CONTENT_LENGTH"]
    larger = {  # the endpoints that raise the service's limit (issuer/api/v1.py, issuer/web/__init__.py)
        "v1.Batches": MAX_BATCH_UPLOAD,
        "console.batch_list": MAX_BATCH_UPLOAD,
        "console.batch_again": MAX_BATCH_UPLOAD,
        "console_admin.organization_appearance": MAX_APPEARANCE_UPLOAD,
    }
    paths = {}
    for rule in app.url_map.iter_rules():
        if rule.methods and {"POST", "PUT"} & rule.methods:
            paths[rule.endpoint] = re.sub(r"<(?:\w+:)?\w+>", "S000011000001", rule.rule)
    assert set(larger) <= set(paths)
    for endpoint, path in paths.items():
        found = nginx_location(locations, path)
        assert found is not None, path
        limit = _directive(found.body, "client_max_body_size")
        assert (_bytes(limit) if limit else _bytes(default)) == larger.get(endpoint, _bytes(default)), path
        refusal = _directive(found.body, "error_page 413") or _directive(
            server.split("    location", 1)[0], "error_page 413"
        )
        assert refusal == ("@too_large_json" if path.startswith("/api/") else "@too_large_page"), path

    named = {found.pattern: found.body for found in locations if found.modifier == "@"}
    answer = re.search(r"return 413 '(.*)';", named["too_large_json"])
    assert answer and _directive(named["too_large_json"], "default_type") == "application/json"
    ours = json.loads(answer[1])
    theirs = app.test_client().post("/api/v1/verify", data=b" " * (2 << 20), content_type="application/json")
    assert theirs.status_code == 413 and theirs.json is not None
    assert set(ours) == set(theirs.json) and (ours["code"], ours["message_zh"]) == (
        theirs.json["code"],
        theirs.json["message_zh"],
    )
    form = {"content_type": "application/x-www-form-urlencoded", "headers": {"Origin": "http://localhost"}}
    page = app.test_client().post("/lookup", data=b"a=" + b"x" * (2 << 20), **form)
    words = re.search(r'<p class="problem">(.*?)</p>', page.get_data(as_text=True))
    assert page.status_code == 413 and words and words[1] in named["too_large_page"]


def test_nginx_logs_no_query_and_no_referrer() -> None:
    """The lookup's query holds a name and an ID number, a console search a name, and a
    referrer the query of the page before: every access log of the file is in the format
    that has none of them."""
    text = NGINX.read_text(encoding="utf-8")
    formats = dict(re.findall(r"^log_format (\w+) ((?:'[^']*'\s*)+);", text, re.M))
    logs = re.findall(r"^\s*access_log (\S+) (\w+);", text, re.M)
    assert len(logs) == text.count("\nserver {") and {name for _, name in logs} == {"issuer"}
    for variable in ("$request ", "$request\"", "$request_uri", "$args", "$query_string", "$arg_", "$http_referer"):
        assert variable not in formats["issuer"], variable
    assert "$uri" in formats["issuer"] and "$status" in formats["issuer"]


def test_nginx_sets_the_forwarded_headers_and_keeps_metrics_to_itself() -> None:
    server = _server(NGINX.read_text(encoding="utf-8"))
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme", "Host $host"):
        assert f"proxy_set_header {header};" in server
    metrics = nginx_location(nginx_locations(server), "/metrics")
    assert metrics is not None and _directive(metrics.body, "return") == "404"
    for path in ("/api/v1/batches/B1/pdf", "/console/batches/B1/certificates.pdf", "/console/certificates/download"):
        found = nginx_location(nginx_locations(server), path)
        assert found is not None and _seconds(_directive(found.body, "proxy_read_timeout") or "0") >= 300, path


def test_the_nginx_lines_shown_in_deploy_md_are_the_files() -> None:
    shown = (REPO / "docs" / "DEPLOY.md").read_text(encoding="utf-8").split("```nginx\n", 1)[1].split("```", 1)[0]
    lines = NGINX.read_text(encoding="utf-8").splitlines()
    assert all(line in lines for line in shown.splitlines()), "docs/DEPLOY.md shows a line deploy/nginx/ lacks"


def test_nginx_accepts_the_file(tmp_path: Path) -> None:
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed")
    text = with_certificate(NGINX.read_text(encoding="utf-8"), *self_signed(tmp_path))
    (tmp_path / "issuer.conf").write_text(text, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/issuer.conf;\n}}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
