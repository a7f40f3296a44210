"""Browser tests. Their shared helper module's asserts are rewritten by pytest, as a test
module's are, so that a failing comparison shows both sides."""

import pytest

pytest.register_assert_rewrite("tests.browser.offline_check")
