"""Browser fixtures for these tests (see tests/support/browser.py)."""

from tests.support.browser import artifacts, browser, pytest_runtest_makereport  # noqa: F401
