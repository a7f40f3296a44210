"""The auditor's compact memory of serials answers exactly as a set and a dictionary would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core.serialbook import BLOCK, SerialBook

events = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=999_999) | st.integers(min_value=1, max_value=3 * BLOCK),
        st.booleans(),
        st.none() | st.integers(min_value=0, max_value=2**20),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(events)
def test_it_agrees_with_a_set_of_serials_and_a_dictionary_of_first_reads(
    log: list[tuple[int, bool, int | None]],
) -> None:
    book, seen, first = SerialBook(), set[int](), dict[int, tuple[int, int | None]]()
    for index, (serial, read, status_index) in enumerate(log):
        book.see(serial)
        seen.add(serial)
        if read:
            assert book.first_read(serial) == (first[serial][0] if serial in first else None)
            if serial not in first:
                book.read(serial, index, status_index)
                first[serial] = (index, status_index)
    assert list(book.missing()) == sorted(set(range(1, max(seen, default=0) + 1)) - seen)
    for serial in seen | {1, BLOCK - 1, BLOCK, 999_999}:
        expected = first.get(serial)
        assert book.first_read(serial) == (expected[0] if expected else None)
        assert book.status_index(serial) == (expected[1] if expected else None)


def test_a_dense_run_costs_a_few_bytes_a_certificate() -> None:
    book = SerialBook()
    for serial in range(1, 100_001):
        book.see(serial)
        book.read(serial, serial, serial)
    assert not list(book.missing())
    assert book.bytes_used() / 100_000 < 9


def test_a_lone_far_serial_costs_one_block_and_leaves_a_gap() -> None:
    book = SerialBook()
    book.see(1)
    book.see(999_999)
    assert book.bytes_used() == 2 * (BLOCK // 8 + 8 * BLOCK)
    missing = book.missing()
    assert next(missing) == 2
    assert sum(1 for _ in missing) == 999_999 - 3
