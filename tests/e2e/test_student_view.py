"""What a student sees in `make lab`'s JupyterLab: no instructor tools, and hints on top.

1. The student configuration (jupyter/student) is in force: nbgrader's menu, Formgrader,
   Create Assignment, Course List and Assignment List are nowhere in the page and their server
   routes answer 404, while the notebook toolbar keeps nbgrader's Validate button.
2. For every unit, a notebook holding the setup cell, a likely wrong answer (the unit's first
   case in tests/notebooks/hint_cases) and that exercise's visible tests is run in the browser:
   the failing test's output starts with the hint, within the first lines of the output, so it
   is on screen without scrolling; a screenshot of it goes to
   ``test-artifacts/e2e/hint-<unit>.png``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HINTS_DIR, Server, hint_case, units, wait_until, wait_until_stable
from tests.e2e.test_course_in_browser import (
    KERNEL_START_S,
    lab_state,
    run_all_cells,
    selected_units,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INSTRUCTOR_WORDS = ("Formgrader", "Create Assignment", "Assignment List", "Course List", "Nbgrader")
HINT_WITHIN_PX = 120  # the hint's line starts this close to the top of the error output


def _status(server: Server, path: str) -> int:
    request = urllib.request.Request(
        f"{server.url}{path}", headers={"Authorization": f"token {server.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _open(page: Any, server: Server, path: str, workspace: str) -> None:
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{path}?reset&token={server.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_START_S * 1000)


def _idle(page: Any, server: Server, path: str, what: str) -> None:
    def ready() -> bool:
        state = lab_state(page)
        sessions = [s for s in server.api("/api/sessions") if s.get("path") == path]
        return (
            state is not None
            and state["status"] == "idle"
            and bool(sessions)
            and sessions[0]["kernel"].get("execution_state") == "idle"
            and not any("*" in p for p in state["prompts"])
        )

    wait_until(ready, KERNEL_START_S, what, interval=0.5)


def _close_kernels(server: Server, path: str) -> None:
    for session in server.api("/api/sessions"):
        if session.get("path") == path:
            server.delete(f"/api/sessions/{session['id']}")


def test_student_lab_has_no_instructor_tools(lab, browser, artifacts):
    for route in ("/formgrader", "/assignments", "/courses"):
        assert _status(lab, route) == 404, f"{route} is served to students"
    unit = units()[0]
    path = f"{unit}/{unit}.ipynb"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _open(page, lab, path, "e2e-student-menus")
        wait_until(
            lambda: (
                page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar")
                .get_by_text("Validate", exact=True)
                .count()
                > 0
            ),
            60,
            "nbgrader's Validate button in the notebook toolbar",
        )
        menus = [t.strip() for t in page.locator(".lm-MenuBar-itemLabel").all_text_contents()]
        page.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
        page.keyboard.press("Escape")
        page.screenshot(path=str(artifacts / "student-lab.png"))
        body = page.evaluate(  # the lab's own text: menus, panels, toolbars, status bar; not
            """() => {
            const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
            const saved = cells.map(c => c.style.display);
            cells.forEach(c => { c.style.display = 'none'; });
            const text = document.body.innerText;
            cells.forEach((c, i) => { c.style.display = saved[i]; });
            return text;
        }"""
        )  # the notebook's cells (unit 00 teaches `nbgrader validate` by name)
        shown = [w for w in INSTRUCTOR_WORDS if w.lower() in body.lower()]
        assert not shown, f"the student's JupyterLab shows {shown} (menus: {menus})"
        # the command palette lists every command a plugin registered
        page.keyboard.press("Control+Shift+c")
        palette = page.locator(".lm-CommandPalette")
        palette.wait_for(timeout=10_000)
        commands = palette.inner_text()
        listed = [w for w in INSTRUCTOR_WORDS if w.lower() in commands.lower()]
        assert not listed, f"the command palette offers {listed}"
    finally:
        context.close()
        _close_kernels(lab, path)


def _hint_position(page: Any, hint: str) -> dict[str, Any] | None:
    """The first error output of the open notebook: its first line and where ``hint`` starts
    in it, relative to the output's top, after scrolling the output to the top of the view."""
    return page.evaluate(
        """(hint) => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const out = [...panel.querySelectorAll('.jp-OutputArea-output')]
            .find(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr');
        if (!out) return null;
        out.scrollIntoView({block: 'start'});
        const text = out.textContent;
        const at = text.toLowerCase().indexOf(hint.toLowerCase());
        let offset = null;
        if (at >= 0) {
            const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
            let seen = 0, node;
            while ((node = walker.nextNode())) {
                if (seen + node.length > at) {
                    const range = document.createRange();
                    range.setStart(node, at - seen);
                    range.setEnd(node, Math.min(node.length, at - seen + 1));
                    offset = range.getBoundingClientRect().top - out.getBoundingClientRect().top;
                    break;
                }
                seen += node.length;
            }
        }
        return {first: text.trim().split('\\n')[0], found: at >= 0, offset: offset,
                top: out.getBoundingClientRect().top, viewport: window.innerHeight};
    }""",
        hint,
    )


def test_a_failing_check_shows_its_hint_first_in_every_unit(lab, browser, artifacts, subtests):
    for unit in selected_units():
        with subtests.test(unit=unit):
            check_hint_on_top(unit, lab, browser, artifacts)


def check_hint_on_top(unit: str, lab: Server, browser: Any, artifacts: Path) -> None:
    exercise, description, hint = hint_case(unit)
    path = f"{HINTS_DIR}/{unit}.ipynb"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        _open(page, lab, path, f"e2e-hint-{unit}")
        _idle(page, lab, path, f"{unit}: the kernel to start")
        run_all_cells(page)
        _idle(page, lab, path, f"{unit}: the cells to run")
        where = wait_until_stable(
            lambda: _hint_position(page, hint), 30, f"{unit}: the failing test's output"
        )
        page.screenshot(path=str(artifacts / f"hint-{unit}.png"))
        assert where is not None, f"{unit}: {exercise} / {description}: no test failed"
        assert where["found"], (
            f"{unit}: {exercise} / {description}: the output does not contain {hint!r}; "
            f"it starts with {where['first']!r}"
        )
        assert where["offset"] is not None and where["offset"] <= HINT_WITHIN_PX, (
            f"{unit}: the hint {hint!r} starts {where['offset']} px below the top of the error "
            f"output (at most {HINT_WITHIN_PX}); the output starts with {where['first']!r}"
        )
        assert where["top"] + where["offset"] < where["viewport"], f"{unit}: the hint is off screen"
    finally:
        context.close()
        _close_kernels(lab, path)
