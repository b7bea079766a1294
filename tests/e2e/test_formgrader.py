"""nbgrader's formgrader, opened in Chromium as the instructor: every unit is there.

The server is started as grading/README.md says (from grading/, so that nbgrader reads the
course's nbgrader_config.py, with the repository as its root), but with DLGRADE_STATE_DIR in a
temporary folder: the gradebook it creates is a throwaway, never grading/gradebook.db.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ROOT, SOLUTIONS, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def source_units() -> list[str]:
    return sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.stem == p.parent.name)


def test_formgrader_lists_every_unit(formgrader, browser, artifacts):
    gradebook = ROOT / "grading" / "gradebook.db"
    stamp = gradebook.stat().st_mtime_ns if gradebook.exists() else None

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{formgrader.url}/formgrader?token={formgrader.token}")
        page.wait_for_url("**/formgrader/manage_assignments**", timeout=60_000)
        wait_until(
            lambda: page.evaluate("() => Boolean(window.models && window.models.loaded)"),
            120,
            "the formgrader to load its assignments",
        )
        listed = sorted(t.strip() for t in page.locator("#main-table td.name").all_text_contents())
        page.screenshot(path=str(artifacts / "formgrader.png"))
        missing = sorted(set(source_units()) - set(listed))
        assert not missing, (
            f"the formgrader lists {listed}; units in solutions/ missing from it: {missing}\n"
            + formgrader.log_tail()
        )
        config = page.locator("#collapseConfig pre").text_content() or ""
        assert "dl-course" in config, "the formgrader does not run with the course's config"
    finally:
        context.close()
    after = gradebook.stat().st_mtime_ns if gradebook.exists() else None
    assert after == stamp, "the formgrader wrote to grading/gradebook.db, not the temp state dir"
