"""Every unit of the course, solved, run in a real JupyterLab in Chromium, as a student would.

For each notebook in course/ (its answers filled in from solutions/, see conftest.py) the test
opens it in JupyterLab, waits until its kernel is really up, runs all cells from the Run menu,
waits until every code cell has run, and then checks what a student would see: no cell shows
an error or anything on stderr, every widget rendered (no "Error displaying widget"), and
moving a control of a widget redraws its picture. A screenshot of each unit goes to
``test-artifacts/e2e/<unit>.png``.

Units are discovered from course/, so a new unit is covered as soon as it is released.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, units, wait_until, wait_until_stable

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KERNEL_START_S = 120  # a cold kernel importing numpy, matplotlib and torch on a busy machine
RUN_ALL_S = {"default": 300}  # the whole notebook; units that train for long get their own
REDRAW_S = 60  # one widget callback

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STDERR_MIME = "application/vnd.jupyter.stderr"  # JupyterLab renders errors with this type too


@dataclass(frozen=True)
class Move:
    """Which control of which widget output to move: ``kind`` "slider" or "dropdown"."""

    kind: str = "slider"
    widget: int = 0  # the n-th widget output of the notebook
    index: int = 0  # the n-th control of that kind in it


#: Units whose first slider is not the interesting control; every other unit moves the first
#: slider of its first widget.
MOVES: dict[str, Move] = {
    "02_mlp": Move("dropdown"),  # the activation explorer: switch the activation function
    "13_torch_gpu": Move("dropdown"),  # the speed chart: switch the layer shown
}


def notebook_url(server: Server, unit: str) -> str:
    # a workspace per unit, reset: no tab of an earlier unit is restored next to it
    return (
        f"{server.url}/lab/workspaces/e2e-{unit}/tree/{unit}/{unit}.ipynb"
        f"?reset&token={server.token}"
    )


def kernel_state(server: Server, unit: str) -> str | None:
    """The server's execution state of the notebook's kernel, None while it has none."""
    for session in server.api("/api/sessions"):
        if session.get("path") == f"{unit}/{unit}.ipynb" and session.get("kernel"):
            return session["kernel"].get("execution_state")
    return None


def lab_state(page: Any) -> dict[str, Any]:
    """What the notebook's own toolbar and cells say, read from JupyterLab's DOM."""
    return page.evaluate(
        """() => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        if (!panel) return null;
        const q = (sel) => panel.querySelector(sel);
        const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
            .map(p => p.textContent.trim());
        return {
            kernelName: (q('.jp-Toolbar-kernelName') || {}).textContent || '',
            status: (q('.jp-Notebook-ExecutionIndicator') || {dataset: {}}).dataset.status,
            prompts: prompts,
        };
    }"""
    )


def wait_for_idle_kernel(page: Any, server: Server, unit: str) -> None:
    def ready() -> bool:
        state = lab_state(page)
        return (
            state is not None
            and state["kernelName"].strip() not in ("", "No Kernel", "Kernel")
            and state["status"] == "idle"
            and kernel_state(server, unit) == "idle"
        )

    wait_until(ready, KERNEL_START_S, f"{unit}: the kernel to start and be idle", interval=0.5)


def run_all_cells(page: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def wait_for_run_all(page: Any, server: Server, unit: str, timeout: float) -> list[str]:
    """Wait until no cell is queued or running and the kernel is idle; return the prompts."""

    def finished() -> tuple[str, ...] | None:
        state = lab_state(page)
        if state is None or state["status"] != "idle" or kernel_state(server, unit) != "idle":
            return None
        prompts = tuple(state["prompts"])
        if any("*" in p for p in prompts):
            return None
        return prompts

    return list(wait_until_stable(finished, timeout, f"{unit}: run all cells to finish", 1.0))


def save_notebook(page: Any, server: Server, unit: str) -> dict[str, Any]:
    """Save the notebook from JupyterLab (Ctrl+S) and read it back: what the kernel sent."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first.click(
        position={"x": 5, "y": 5}
    )
    page.keyboard.press("Escape")  # command mode
    page.keyboard.press("Control+s")
    wait_until(
        lambda: page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0,
        60,
        f"{unit}: JupyterLab to save the notebook",
    )
    return server.api(f"/api/contents/{unit}/{unit}.ipynb")["content"]


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_problems(notebook: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Errors and stderr in the saved outputs, and the code cells that show a widget."""
    problems, widget_cells = [], []
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for n, cell in enumerate(code_cells):
        where = f"code cell {n + 1} ({_text(cell['source']).strip().splitlines()[:1]})"
        if cell.get("execution_count") is None:
            problems.append(f"{where}: never ran")
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                problems.append(f"{where}: {out['ename']}: {out['evalue']}")
            elif out["output_type"] == "stream" and out.get("name") == "stderr":
                problems.append(f"{where}: wrote to stderr: {_text(out['text'])[:800]}")
            elif WIDGET_MIME in out.get("data", {}):
                widget_cells.append(n)
    return problems, widget_cells


def rendering_problems(page: Any, widget_cells: list[int]) -> list[str]:
    """What JupyterLab shows: stderr/error outputs, and the widgets that did not render."""
    return page.evaluate(
        """([stderrMime, widgetCells]) => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const problems = [];
        const cells = [...panel.querySelectorAll('.jp-CodeCell')];
        cells.forEach((cell, i) => {
            const where = `code cell ${i + 1}`;
            cell.querySelectorAll(`.jp-OutputArea-output[data-mime-type="${stderrMime}"]`)
                .forEach(o => problems.push(`${where}: ${o.textContent.trim().slice(0, 800)}`));
            const text = cell.querySelector('.jp-OutputArea') ?
                cell.querySelector('.jp-OutputArea').textContent : '';
            if (/Error displaying widget|model not found/i.test(text))
                problems.push(`${where}: ${text.trim().slice(0, 300)}`);
        });
        for (const i of widgetCells) {
            if (!cells[i] || !cells[i].querySelector('.jp-OutputArea-output .jupyter-widgets'))
                problems.push(`code cell ${i + 1}: its widget did not render`);
        }
        return problems;
    }""",
        [STDERR_MIME, widget_cells],
    )


def widget_output(page: Any, code_cell: int) -> Any:
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(code_cell)
    return cell.locator(".jp-OutputArea-output").filter(has=page.locator(".jupyter-widgets")).first


def move_control(unit: str, output: Any, move: Move) -> str:
    """Move one control as a student would (keyboard on a slider, a dropdown choice)."""
    if move.kind == "dropdown":
        select = output.locator(".widget-dropdown select").nth(move.index)
        options = [o.replace("\xa0", " ") for o in select.locator("option").all_text_contents()]
        current = select.evaluate("s => s.selectedIndex")
        choice = (current + 1) % len(options)
        select.select_option(index=choice)
        return f"dropdown {options[current]!r} -> {options[choice]!r}"
    handle = output.locator(".widget-slider .noUi-handle").nth(move.index)
    handle.scroll_into_view_if_needed()
    handle.focus()
    readout = output.locator(".widget-slider .widget-readout").nth(move.index)
    before = readout.text_content()
    for key in ("ArrowRight", "ArrowRight", "ArrowRight"):
        handle.press(key)
    after = readout.text_content()
    if after == before:  # a slider already at its maximum: go the other way
        for key in ("ArrowLeft",) * 6:
            handle.press(key)
        after = readout.text_content()
    assert after != before, f"{unit}: the arrow keys did not move the slider ({before!r})"
    return f"slider {before!r} -> {after!r}"


def selected_units() -> list[str]:
    """Every unit, or those named in DLKIT_E2E_UNITS (comma-separated), to debug one unit."""
    chosen = [u.strip() for u in os.environ.get("DLKIT_E2E_UNITS", "").split(",") if u.strip()]
    unknown = sorted(set(chosen) - set(units()))
    if unknown:
        pytest.fail(f"DLKIT_E2E_UNITS names {unknown}; the units are {units()}", pytrace=False)
    return chosen or units()


def test_every_unit_runs_in_jupyterlab(lab, browser, artifacts, subtests):
    """One test item, one subtest per unit: pytest-xdist runs it on one worker with one server.

    (``xdist_group`` with ``--dist loadgroup`` would say the same, but pytest-xdist 3.8 cannot
    group under pytest 9: it renames ``item._nodeid``, which pytest 9 no longer reads.)
    """
    assert units(), "no unit found in course/"
    for unit in selected_units():
        with subtests.test(unit=unit):
            check_unit(unit, lab, browser, artifacts)


def check_unit(unit: str, lab: Server, browser: Any, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    try:
        page.goto(notebook_url(lab, unit))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_START_S * 1000)
        wait_for_idle_kernel(page, lab, unit)
        run_all_cells(page)
        prompts = wait_for_run_all(page, lab, unit, RUN_ALL_S.get(unit, RUN_ALL_S["default"]))

        notebook = save_notebook(page, lab, unit)
        problems, widget_cells = output_problems(notebook)
        problems += rendering_problems(page, widget_cells)
        assert not problems, f"{unit}: after Run All Cells:\n" + "\n".join(problems)
        n_code = sum(c["cell_type"] == "code" for c in notebook["cells"])
        assert len(prompts) == n_code, (
            f"{unit}: JupyterLab shows {len(prompts)} code cells; the notebook has {n_code}"
        )

        if widget_cells:
            move = MOVES.get(unit, Move())
            assert move.widget < len(widget_cells), (
                f"{unit}: MOVES asks for widget {move.widget}; the notebook shows "
                f"{len(widget_cells)}"
            )
            output = widget_output(page, widget_cells[move.widget])
            output.scroll_into_view_if_needed()
            image = output.locator("img").first
            before = wait_until_stable(image.screenshot, REDRAW_S, f"{unit}: the widget's picture")
            what = move_control(unit, output, move)
            wait_until(
                lambda: image.screenshot() != before,
                REDRAW_S,
                f"{unit}: the widget's picture to change after {what}",
            )
            wait_for_idle_kernel(page, lab, unit)  # every redraw the move queued has run
            after = wait_until_stable(image.screenshot, REDRAW_S, f"{unit}: the redraw to settle")
            assert after != before, f"{unit}: {what} left the picture unchanged"
            status = [t.strip() for t in output.locator(".widget-html").all_text_contents()]
            assert not any(status), f"{unit}: after {what} the widget says {status}"
            problems = rendering_problems(page, widget_cells)
            assert not problems, f"{unit}: after {what}:\n" + "\n".join(problems)
            output.scroll_into_view_if_needed()  # the screenshot shows the moved widget
        page.screenshot(path=str(artifacts / f"{unit}.png"))
        assert not script_errors, f"{unit}: JavaScript errors in the page: {script_errors}"
    except BaseException:
        page.screenshot(path=str(artifacts / f"{unit}-failure.png"))
        raise
    finally:
        context.close()
        for session in lab.api("/api/sessions"):  # free the kernel's memory for the next unit
            if session.get("path") == f"{unit}/{unit}.ipynb":
                lab.delete(f"/api/sessions/{session['id']}")
