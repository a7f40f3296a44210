"""Group commit: a request alone runs at once; requests that come while their kind's group
runs are run together in the next group, each exactly once; kinds do not wait on each other."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from issuer.service.together import Together, Waiting


class Job(Waiting):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.ran_in: int | None = None


class Runner:
    """Runs groups, recording them; the first group of each kind in ``hold`` waits until
    released, so that a test can make requests arrive while it runs."""

    def __init__(self, hold: Sequence[str] = ()) -> None:
        self.groups: list[list[str]] = []
        self.holding = {kind: threading.Event() for kind in hold}
        self.held = {kind: threading.Event() for kind in hold}
        self._lock = threading.Lock()

    def __call__(self, group: Sequence[Job]) -> None:
        kind = group[0].name.split("-")[0]
        if kind in self.holding and not self.held[kind].is_set():
            self.held[kind].set()
            self.holding[kind].wait(10)
        with self._lock:
            self.groups.append([job.name for job in group])
            for job in group:
                job.ran_in = len(self.groups)


def _submit(together: Together[Job], job: Job) -> threading.Thread:
    thread = threading.Thread(target=together.submit, args=(job.name.split("-")[0], job))
    thread.start()
    return thread


def test_a_request_alone_runs_at_once_in_a_group_of_its_own() -> None:
    runner = Runner()
    together = Together(runner, most=8)
    job = Job("a-1")
    together.submit("a", job)
    assert runner.groups == [["a-1"]] and job.ran_in == 1


def test_requests_that_come_while_a_group_runs_run_together_next_each_once() -> None:
    runner = Runner(hold=["a"])
    together = Together(runner, most=3)
    first = _submit(together, Job("a-0"))
    assert runner.held["a"].wait(10)
    jobs = [Job(f"a-{i}") for i in range(1, 6)]
    threads = []
    for job in jobs:
        threads.append(_submit(together, job))
    while len(together._queues["a"]) < 5:  # all five are waiting behind the held group
        threading.Event().wait(0.001)
    runner.holding["a"].set()
    for thread in [first, *threads]:
        thread.join(10)
    assert runner.groups[0] == ["a-0"]
    assert [len(g) for g in runner.groups[1:]] == [3, 2]  # at most `most` a group, in the order they came
    assert sorted(n for g in runner.groups for n in g) == sorted(["a-0", *(j.name for j in jobs)])
    assert all(job.ran_in is not None for job in jobs) and together._queues == {}


def test_one_kind_does_not_wait_for_another_kinds_group() -> None:
    runner = Runner(hold=["a"])
    together = Together(runner, most=8)
    held = _submit(together, Job("a-0"))
    assert runner.held["a"].wait(10)
    together.submit("b", Job("b-0"))  # returns while a's group is still held
    assert runner.groups == [["b-0"]]
    runner.holding["a"].set()
    held.join(10)
    assert runner.groups == [["b-0"], ["a-0"]]
