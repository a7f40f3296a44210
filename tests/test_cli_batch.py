"""``issuer batch submit / status / fetch`` against a real service over HTTP on 127.0.0.1."""

from __future__ import annotations

import csv
import hashlib
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from issuer.cli import main
from issuer.service import jobs
from issuer.service.wiring import UseCases
from tests.builders import PHOTO, archive_members, id17s, photos_zip, simple_roster
from tests.conftest import ORG_CODE, Keys
from tests.servers import serving


@dataclass
class Recorder:
    """The requests the service answered (path, Range header), each noted once its answer
    is made; ``ignore_range`` makes it answer a ``Range`` request with the whole file, as a
    server without range support would."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    ignore_range: bool = False

    def wrap(self, app: Flask) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
        def recording(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            asked = (environ["PATH_INFO"], environ.get("HTTP_RANGE", ""))
            if self.ignore_range:
                environ.pop("HTTP_RANGE", None)
            answer = app(environ, start_response)
            self.requests.append(asked)
            return answer

        return recording

    def ranges(self) -> list[str]:
        return [r for path, r in self.requests if path.endswith("/archive") and r]


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture()
def server(app: Flask, keys: Keys, recorder: Recorder) -> Iterator[str]:
    with serving(recorder.wrap(app)) as url:
        yield url


def _cli(server: str, keys: Keys, *args: str) -> Result:
    return CliRunner().invoke(main, ["batch", *args, "--url", server, "--key", keys.issuer])


def _roster(tmp_path: Path, n: int) -> Path:
    roster = tmp_path / "名单.csv"
    roster.write_bytes(simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(n))]))
    return roster


def _photos(tmp_path: Path) -> str:
    """The photos ZIP of built rosters, as a file."""
    photos = tmp_path / "照片.zip"
    photos.write_bytes(photos_zip())
    return str(photos)


def _numbers(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row[1] for row in list(csv.reader(fh))[1:]]


def _submitted(server: str, keys: Keys, tmp_path: Path, n: int, *args: str) -> tuple[str, list[str]]:
    """Submit ``n`` rows at 150 dpi; the batch id and the numbers issued."""
    out = tmp_path / "numbers.csv"
    roster, photos = str(_roster(tmp_path, n)), _photos(tmp_path)
    result = _cli(server, keys, "submit", roster, "--photos", photos, "--dpi", "150", "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    return _batch_id(result), _numbers(out)


def _batch_id(result: Result) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("批次 / batch: ")).split(": ")[1]


def _archive(svc: UseCases, batch_id: str) -> bytes:
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.join()
    return svc.drawing.archive_path(batch_id).read_bytes()


def _draw_once_asked(svc: UseCases, recorder: Recorder, batch_id: str) -> threading.Thread:
    """Draw the batch in the background (the service's own queue being stopped), starting
    only once the service has answered someone's question about it: "still drawing"."""

    def draw() -> None:
        deadline = time.monotonic() + 10
        while not any(path.endswith(batch_id) for path, _ in recorder.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        svc.drawing.draw(batch_id, 0, 1 << 20)

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    return thread


def _issued_not_drawn(server: str, keys: Keys, svc: UseCases, tmp_path: Path, n: int) -> str:
    """A roster submitted (--no-wait) to a service whose queue is stopped, then validated
    and issued by its job run as the queue runs it: the batch waits to be drawn."""
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.close()
    result = _cli(
        server, keys, "submit", str(_roster(tmp_path, n)), "--photos", _photos(tmp_path), "--dpi", "150", "--no-wait"
    )
    assert result.exit_code == 0, result.output
    batch_id = _batch_id(result)
    svc.batches.run_validation(batch_id)
    return batch_id


def test_submit_issues_and_writes_the_numbers(server: str, keys: Keys, tmp_path: Path) -> None:
    out = tmp_path / "numbers.csv"
    result = _cli(server, keys, "submit", str(_roster(tmp_path, 3)), "--photos", _photos(tmp_path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "有效3行" in result.output and len(_batch_id(result)) > 8
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,证书编号" and lines[1] == f"2,{ORG_CODE}263000001" and len(lines) == 4


def test_submit_prints_every_problem_and_exits_1(server: str, keys: Keys, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    bad = f"\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,{PHOTO}".encode("gbk")
    roster.write_bytes(simple_roster([("甲", id17s(1)[0], 3)]) + bad)
    result = _cli(server, keys, "submit", str(roster), "--photos", _photos(tmp_path))
    assert result.exit_code == 1
    assert "第3行" in result.output and "roster_has_errors" in result.output


def test_submit_follows_the_validation_with_a_progress_bar(server: str, keys: Keys, tmp_path: Path) -> None:
    result = _cli(server, keys, "submit", str(_roster(tmp_path, 3)), "--photos", _photos(tmp_path))
    assert result.exit_code == 0, result.output
    assert "校验名单 / validating" in result.stderr and "已发证3张 / issued 3" in result.stdout


def test_submit_no_wait_prints_the_batch_being_validated_and_exits_0(
    server: str, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.close()  # nothing runs: the command cannot have waited
    result = _cli(server, keys, "submit", str(_roster(tmp_path, 2)), "--photos", _photos(tmp_path), "--no-wait")
    assert result.exit_code == 0, result.output
    assert "正在校验名单 / batch" in result.stdout and "rows 2, checked 0" in result.stdout
    status = _cli(server, keys, "status", _batch_id(result))
    assert status.exit_code == 3 and "validating" in status.stdout
    both = _cli(server, keys, "submit", str(_roster(tmp_path, 2)), "--photos", _photos(tmp_path), "--no-wait", "--wait")
    assert both.exit_code == 2 and "--no-wait" in both.output  # a usage error


def test_a_rejected_roster_exits_1_with_its_problems_then_one_line(server: str, keys: Keys, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    bad = f"\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75,{PHOTO}".encode("gbk")
    roster.write_bytes(simple_roster([("甲", id17s(1)[0], 3)]) + bad)
    result = _cli(
        server, keys, "submit", str(roster), "--photos", _photos(tmp_path), "--out", str(tmp_path / "numbers.csv")
    )
    assert result.exit_code == 1 and "第3行" in result.stdout
    [line] = [x for x in result.stderr.splitlines() if "roster_has_errors" in x]
    assert (
        line
        == "roster_has_errors: 名单中2行有1行存在问题，未发放任何证书 / 1 of 2 rows have problems; nothing was issued"
    )
    assert not (tmp_path / "numbers.csv").exists()
    dry = _cli(server, keys, "submit", str(roster), "--photos", _photos(tmp_path), "--dry-run")
    assert dry.exit_code == 1 and "第3行" in dry.stdout and "有效1行" in dry.stdout


def test_an_unreachable_service_exits_2(keys: Keys, tmp_path: Path) -> None:
    for args in (["submit", str(_roster(tmp_path, 1))], ["status", "abc"], ["fetch", "abc"]):
        result = _cli("http://127.0.0.1:9", keys, *args)
        assert result.exit_code == 2 and "unreachable" in result.output, args
        assert "Traceback" not in result.output


def test_submit_waits_and_downloads_every_image_and_pdf(server: str, keys: Keys, svc: UseCases, tmp_path: Path) -> None:
    target = tmp_path / "out" / "证书.zip"
    target.parent.mkdir()
    _, numbers = _submitted(server, keys, tmp_path, 6, "--archive", str(target), "--poll", "0.05")
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
    expected = {*archive_members(svc, numbers), "result.xlsx"}
    assert len(numbers) == 6 and names == expected
    assert list(target.parent.iterdir()) == [target]  # no .part left behind


def test_submit_passes_formats_and_fetch_checks_the_digest(
    server: str, keys: Keys, svc: UseCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id, numbers = _submitted(server, keys, tmp_path, 2, "--formats", "pdf")
    real = _archive(svc, batch_id)
    monkeypatch.chdir(tmp_path)
    result = _cli(server, keys, "fetch", batch_id)
    assert result.exit_code == 0, result.output
    saved = (tmp_path / f"batch-{batch_id}.zip").read_bytes()
    assert saved == real and "SHA-256" in result.stdout
    with zipfile.ZipFile(tmp_path / f"batch-{batch_id}.zip") as archive:
        assert set(archive.namelist()) == {*archive_members(svc, numbers, ("pdf",)), "result.xlsx"}


def test_status_of_a_finished_batch(server: str, keys: Keys, svc: UseCases, tmp_path: Path) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 2)
    real = _archive(svc, batch_id)
    result = _cli(server, keys, "status", batch_id)
    assert result.exit_code == 0, result.output
    assert "已完成" in result.stdout and "done" in result.stdout
    assert hashlib.sha256(real).hexdigest() in result.stdout


def test_fetch_resumes_a_partial_download(
    server: str, keys: Keys, svc: UseCases, recorder: Recorder, tmp_path: Path
) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 2)
    real = _archive(svc, batch_id)
    target = tmp_path / "batch.zip"
    Path(f"{target}.part").write_bytes(real[:1000])
    result = _cli(server, keys, "fetch", batch_id, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == real and recorder.ranges() == ["bytes=1000-"]
    assert not Path(f"{target}.part").exists()


def test_a_resumed_download_with_a_wrong_beginning_is_deleted(
    server: str, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 2)
    real = _archive(svc, batch_id)
    target = tmp_path / "batch.zip"
    part = Path(f"{target}.part")
    part.write_bytes(b"x" * 1000)  # only the rest is asked for: the digest cannot match
    result = _cli(server, keys, "fetch", batch_id, "-o", str(target))
    assert result.exit_code == 1 and "checksum_mismatch" in result.output
    assert not part.exists() and not target.exists()
    again = _cli(server, keys, "fetch", batch_id, "-o", str(target))
    assert again.exit_code == 0, again.output
    assert target.read_bytes() == real


def test_a_service_ignoring_range_sends_the_whole_file_again(
    server: str, keys: Keys, svc: UseCases, recorder: Recorder, tmp_path: Path
) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 2)
    real = _archive(svc, batch_id)
    target = tmp_path / "batch.zip"
    Path(f"{target}.part").write_bytes(b"x" * 1000)
    recorder.ignore_range = True
    result = _cli(server, keys, "fetch", batch_id, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == real and recorder.ranges() == ["bytes=1000-"]


def test_fetch_waits_for_a_batch_still_being_drawn(
    server: str, keys: Keys, svc: UseCases, recorder: Recorder, tmp_path: Path
) -> None:
    batch_id = _issued_not_drawn(server, keys, svc, tmp_path, 7)
    pending = _cli(server, keys, "status", batch_id)
    assert pending.exit_code == 3 and "正在生成" in pending.stdout and "drawn 0" in pending.stdout
    recorder.requests.clear()
    drawing = _draw_once_asked(svc, recorder, batch_id)
    target = tmp_path / "batch.zip"
    result = _cli(server, keys, "fetch", batch_id, "-o", str(target), "--poll", "0.05", "--timeout", "30")
    drawing.join()
    assert result.exit_code == 0, result.output
    polls = [path for path, _ in recorder.requests if path.endswith(batch_id)]
    assert len(polls) >= 2 and "生成证书 / drawing" in result.stderr
    with zipfile.ZipFile(target) as archive:
        assert len(archive.namelist()) == 2 * 7 + 1


def test_fetch_gives_up_after_the_timeout(server: str, keys: Keys, svc: UseCases, tmp_path: Path) -> None:
    batch_id = _issued_not_drawn(server, keys, svc, tmp_path, 1)
    result = _cli(server, keys, "fetch", batch_id, "--poll", "0.05", "--timeout", "0.2")
    assert result.exit_code == 3 and "batch_not_ready" in result.output and "0/1" in result.output


def test_a_failed_batch_exits_1_with_its_error(server: str, keys: Keys, svc: UseCases, tmp_path: Path) -> None:
    batch_id = _issued_not_drawn(server, keys, svc, tmp_path, 1)
    svc.drawing.fail(batch_id, "layout_unknown: 版式不存在 / no such layout")
    status = _cli(server, keys, "status", batch_id)
    assert status.exit_code == 1 and "处理失败" in status.stdout and "no such layout" in status.stdout
    fetched = _cli(server, keys, "fetch", batch_id, "-o", str(tmp_path / "b.zip"))
    assert fetched.exit_code == 1 and "batch_failed" in fetched.output and "no such layout" in fetched.output
    assert not (tmp_path / "b.zip").exists()


def test_an_unknown_or_foreign_batch_exits_1(server: str, keys: Keys, tmp_path: Path) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 1)
    for args in (["status", "no-such-batch"], ["fetch", "no-such-batch"]):
        result = _cli(server, keys, *args)
        assert result.exit_code == 1 and "batch_not_found" in result.output, args
    foreign = CliRunner().invoke(main, ["batch", "status", batch_id, "--url", server, "--key", keys.other_issuer])
    assert foreign.exit_code == 1 and "batch_not_found" in foreign.output
    bad_key = CliRunner().invoke(main, ["batch", "status", batch_id, "--url", server, "--key", "isk_nope"])
    assert bad_key.exit_code == 1 and len(bad_key.output.strip().splitlines()) == 1


def test_fetch_into_a_missing_folder_exits_1_with_one_line(
    server: str, keys: Keys, svc: UseCases, tmp_path: Path
) -> None:
    batch_id, _ = _submitted(server, keys, tmp_path, 1)
    _archive(svc, batch_id)
    result = _cli(server, keys, "fetch", batch_id, "-o", str(tmp_path / "missing" / "b.zip"))
    assert result.exit_code == 1 and "cannot_write" in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
