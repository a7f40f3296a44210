"""Reference data as configuration: ``ISSUER_DOCUMENT_TYPES_FILE`` and
``ISSUER_OCCUPATION_LEVELS_FILE`` override the packaged files, and a file that cannot be
used stops the service before it starts, with one line naming the setting, the file, the
line and the problem; ``ISSUER_MIN_HOLDER_AGE``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from issuer import config as settings
from issuer.app import create_app
from issuer.config import ConfigError
from issuer.core.catalogue import ALL_LEVELS, default_catalogue
from issuer.core.identity import default_document_types
from tests.conftest import ELECTRICIAN
from tests.factories import SEAMAN


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def refusal(**config: object) -> str:
    with pytest.raises(ConfigError) as info:
        settings.check({**settings.DEFAULTS, **config})
    line = str(info.value)
    assert "\n" not in line
    return line


def test_without_files_the_packaged_reference_data_is_used() -> None:
    data = settings.reference_data(settings.DEFAULTS)
    assert data.document_types is default_document_types() and data.catalogue is default_catalogue()


def test_the_files_override_the_packaged_types_and_levels(tmp_path: Path) -> None:
    types = write(tmp_path / "types.json", json.dumps({"types": [SEAMAN]}))
    levels = write(tmp_path / "levels.csv", f"\ufeffcode,levels\n{ELECTRICIAN},5 4\n")  # a BOM, as Excel writes
    data = settings.reference_data({"DOCUMENT_TYPES_FILE": types, "OCCUPATION_LEVELS_FILE": levels})
    assert data.document_types.get(7).name_zh == "海员证" and data.document_types.get(1).name_zh == "居民身份证"
    assert data.catalogue.occupation(ELECTRICIAN).levels == {5, 4}
    assert default_catalogue().occupation(ELECTRICIAN).levels == ALL_LEVELS


def test_a_bad_types_file_is_one_line_naming_the_setting_the_file_the_line_and_the_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path / "types.json", '{\n  "types": [\n    {"code": 7, "key": "seaman", "nme_zh": "海员证"}\n  ]\n}'
    )
    assert refusal(DOCUMENT_TYPES_FILE=path) == (
        f"ISSUER_DOCUMENT_TYPES_FILE={path}, line 3: unknown field 'nme_zh' "
        "(fields: code, key, name_zh, name_en, rule, pattern, address_codes)"
    )


def test_a_bad_levels_file_is_one_line_naming_the_setting_the_file_the_line_and_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "levels.csv", f"code,levels\n{ELECTRICIAN},5 4\n6-18-02-04,6\n")
    assert refusal(OCCUPATION_LEVELS_FILE=path) == (
        f"ISSUER_OCCUPATION_LEVELS_FILE={path}, line 3: levels '6': each level once, 1 to 5 (e.g. 5 4 3)"
    )


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    assert refusal(OCCUPATION_LEVELS_FILE=str(missing)) == (
        f"ISSUER_OCCUPATION_LEVELS_FILE={missing}: cannot be read (No such file or directory)"
    )


def test_a_file_that_is_not_utf_8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "levels.csv", "code,name,levels\n6-31-01-03,电工,5 4\n", "gbk")
    assert refusal(OCCUPATION_LEVELS_FILE=path) == f"ISSUER_OCCUPATION_LEVELS_FILE={path}, line 2: not UTF-8 text"


@pytest.mark.parametrize("age", [-1, 101])
def test_the_minimum_age_is_0_to_100(age: int) -> None:
    assert "ISSUER_MIN_HOLDER_AGE" in refusal(MIN_HOLDER_AGE=age)


def test_the_settings_are_read_from_the_environment() -> None:
    config = settings.from_environment(
        {
            "ISSUER_MIN_HOLDER_AGE": "18",
            "ISSUER_DOCUMENT_TYPES_FILE": "/etc/t.json",
            "ISSUER_OCCUPATION_LEVELS_FILE": "l",
        }
    )
    assert (config["MIN_HOLDER_AGE"], config["DOCUMENT_TYPES_FILE"], config["OCCUPATION_LEVELS_FILE"]) == (
        18,
        "/etc/t.json",
        "l",
    )
    assert settings.DEFAULTS["MIN_HOLDER_AGE"] == 16


def test_the_app_is_not_built_with_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path / "types.json", "{")
    with pytest.raises(ConfigError, match=r"ISSUER_DOCUMENT_TYPES_FILE=.*, line 1: not JSON"):
        create_app({"DATABASE_URL": "sqlite://", "DOCUMENT_TYPES_FILE": path})


def test_issuer_serve_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "levels.csv", "code,levels\n9-99-99-99,5\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUER_") and k != "DATABASE_URL"}
    env.update(ISSUER_INSTANCE_PATH=str(tmp_path / "instance"), ISSUER_OCCUPATION_LEVELS_FILE=path)
    done = subprocess.run(
        [sys.executable, "-m", "issuer.cli", "serve", "--bind", "127.0.0.1:0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"configuration: ISSUER_OCCUPATION_LEVELS_FILE={path}, line 2: "
        "occupation '9-99-99-99' is not in the classification / 配置错误"
    ]
    assert "listening" not in done.stdout + done.stderr


@pytest.mark.parametrize("secret", ["SECRET_KEY", "DATA_KEY", "KEY_PASSPHRASE"])
def test_a_blank_secret_refuses_to_start_in_production(secret: str) -> None:
    real = {
        "ENV": "production",
        "QR_HOST": "cert.hrss.example.cn",
        "SECRET_KEY": "a-real-secret-for-the-test",
        "DATA_KEY": "YS1yZWFsLWRhdGEta2V5LW9mLTMyLWJ5dGVzLXRlc3Q=",
        "KEY_PASSPHRASE": "a-real-passphrase",
    }
    settings.check({**settings.DEFAULTS, **real})  # the real ones start
    with pytest.raises(ConfigError, match=f"ISSUER_{secret} is empty"):
        settings.check({**settings.DEFAULTS, **real, secret: " "})
