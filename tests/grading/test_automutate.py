"""The mutation step: automatic one-change mutants of every solution, and the tests that catch
them (tests/grading/automutate.py, tests/grading/automutants/README.md).

Per unit in ``solutions/``:

* ``test_results_are_current``: ``automutants/<unit>.results.json`` exists and was computed from
  the current setup cell, answer cells, test cells and operator version, for the mutants the
  tool generates today;
* ``test_thresholds``: the visible tests catch >= 97% and visible + hidden >= 99.5% of the
  non-equivalent mutants, and every mutant that passes visible and hidden tests is allow-listed
  with a reason;
* ``test_allow_list_is_clean``: no stale or contradicted allow-list entry;
* ``test_stored_verdicts_reproduce`` (slow): a sample of the unit's mutants, with every
  survivor and allow-listed one, is run again and must get its stored verdict, so the cache
  cannot lie.

The first tests check the generator and the runner on a toy exercise.
"""

from __future__ import annotations

import json
import os
import textwrap

import automutate as am
import nbformat
import pytest

UNITS = sorted(
    p.name for p in am.SOLUTIONS.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file()
)
# Random mutants re-run per unit, on top of every survivor and allow-listed one;
# AUTOMUTATE_SAMPLE=all re-runs every mutant (about 1.5 CPU minutes for the whole course).
SAMPLE = os.environ.get("AUTOMUTATE_SAMPLE", "25")
SHOW = 8  # survivors listed in a failure message

TOY = '''\
import numpy as np


def toy(x, w, items, n, flag=None):
    """Documentation: 1 + 2 here is text, never mutated."""
    total = 0  # outside the solution block: never mutated
    ### BEGIN SOLUTION
    a = x @ w.T + 1.5
    total += np.sum(a, axis=0)
    if flag is None and n < 3:
        a = -a
    keep = not items
    b = np.maximum(a, 0)[1:n]
    c = np.exp(x.copy())[n]
    d = helper(a, b, keepdims=True)[:, None]
    return a ** 2 // 3 % 2 - b / c
    ### END SOLUTION
'''

# operator -> (line as written, line in a mutant made by that operator)
EXPECTED = [
    ("binop", "a = x @ w.T + 1.5", "a = x * w.T + 1.5"),
    ("binop", "a = x @ w.T + 1.5", "a = x @ w.T - 1.5"),
    ("binop", "return a ** 2 // 3 % 2 - b / c", "return a * 2 // 3 % 2 - b / c"),
    ("binop", "return a ** 2 // 3 % 2 - b / c", "return a ** 2 / 3 % 2 - b / c"),
    ("binop", "return a ** 2 // 3 % 2 - b / c", "return a ** 2 // 3 // 2 - b / c"),
    ("binop", "return a ** 2 // 3 % 2 - b / c", "return a ** 2 // 3 % 2 - b // c"),
    ("augassign", "total += np.sum(a, axis=0)", "total = np.sum(a, axis=0)"),
    ("augassign", "total += np.sum(a, axis=0)", "total -= np.sum(a, axis=0)"),
    ("compare", "if flag is None and n < 3:", "if flag is not None and n < 3:"),
    ("compare", "if flag is None and n < 3:", "if flag is None and n <= 3:"),
    ("compare", "if flag is None and n < 3:", "if flag is None and n > 3:"),
    ("boolop", "if flag is None and n < 3:", "if flag is None or n < 3:"),
    ("not", "keep = not items", "keep = items"),
    ("neg_remove", "a = -a", "a = a"),
    ("neg_insert", "a = x @ w.T + 1.5", "a = -(x @ w.T + 1.5)"),
    ("neg_insert", "return a ** 2 // 3 % 2 - b / c", "return -(a ** 2 // 3 % 2 - b / c)"),
    ("const", "a = x @ w.T + 1.5", "a = x @ w.T + 3.0"),
    ("const", "a = x @ w.T + 1.5", "a = x @ w.T + 2.5"),
    ("const", "if flag is None and n < 3:", "if flag is None and n < 4:"),
    ("const", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(a, 1)[1:n]"),
    ("const", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(a, 0)[0:n]"),
    (
        "bool",
        "d = helper(a, b, keepdims=True)[:, None]",
        "d = helper(a, b, keepdims=False)[:, None]",
    ),
    ("none", "d = helper(a, b, keepdims=True)[:, None]", "d = helper(a, b, keepdims=True)[:, 0]"),
    ("axis", "total += np.sum(a, axis=0)", "total += np.sum(a, axis=1)"),
    ("axis", "total += np.sum(a, axis=0)", "total += np.sum(a, axis=-1)"),
    ("axis", "total += np.sum(a, axis=0)", "total += np.sum(a, axis=None)"),
    ("attr_T", "a = x @ w.T + 1.5", "a = x @ w + 1.5"),
    ("index", "c = np.exp(x.copy())[n]", "c = np.exp(x.copy())[n + 1]"),
    ("index", "c = np.exp(x.copy())[n]", "c = np.exp(x.copy())[n - 1]"),
    ("slice", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(a, 0)[:n]"),
    ("slice", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(a, 0)[1:]"),
    ("slice", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(a, 0)[1:n + 1]"),
    ("func", "b = np.maximum(a, 0)[1:n]", "b = np.minimum(a, 0)[1:n]"),
    ("func", "total += np.sum(a, axis=0)", "total += np.mean(a, axis=0)"),
    ("unwrap", "c = np.exp(x.copy())[n]", "c = x.copy()[n]"),
    ("unwrap", "c = np.exp(x.copy())[n]", "c = np.exp(x)[n]"),
    ("swap_args", "b = np.maximum(a, 0)[1:n]", "b = np.maximum(0, a)[1:n]"),
    (
        "swap_args",
        "d = helper(a, b, keepdims=True)[:, None]",
        "d = helper(b, a, keepdims=True)[:, None]",
    ),
    ("delete", "keep = not items", "pass"),
    ("delete", "total += np.sum(a, axis=0)", "pass"),
]


def _changes(mutants: list[am.Mutant], source: str) -> set[tuple[str, str, str]]:
    """``{(operator, old line, new line)}`` of one-line mutants."""
    old_lines = source.split("\n")
    out = set()
    for m in mutants:
        new_lines = m.source.split("\n")
        if len(new_lines) != len(old_lines):
            continue
        diff = [(o, n) for o, n in zip(old_lines, new_lines, strict=True) if o != n]
        if len(diff) == 1:
            out.add((m.operator, diff[0][0].strip(), diff[0][1].strip()))
    return out


def test_every_operator_makes_its_mutant():
    mutants = am.generate("toy", TOY)
    changes = _changes(mutants, TOY)
    missing = [e for e in EXPECTED if e not in changes]
    assert not missing, "expected mutants not generated:\n" + "\n".join(map(str, missing))
    assert {op for op, _, _ in EXPECTED} == set(am.OPERATORS), "a documented operator is untested"
    assert {m.operator for m in mutants} <= set(am.OPERATORS)


def test_only_the_solution_block_is_mutated_and_every_mutant_is_distinct():
    mutants = am.generate("toy", TOY)
    lines = TOY.split("\n")
    begin = next(i for i, line in enumerate(lines) if am.BEGIN_SOLUTION in line)
    end = next(i for i, line in enumerate(lines) if am.END_SOLUTION in line)
    for m in mutants:
        new = m.source.split("\n")
        assert new[: begin + 1] == lines[: begin + 1], f"{m.id} changed the code before the block"
        assert new[len(new) - (len(lines) - end) :] == lines[end:], f"{m.id} changed the end"
        compile(m.source, m.id, "exec")
    assert len({m.id for m in mutants}) == len(mutants), "mutant ids are not unique"
    assert len({m.source for m in mutants}) == len(mutants), "two mutants are the same code"
    assert TOY not in {m.source for m in mutants}


def test_ids_survive_an_edit_above_the_solution_block():
    edited = TOY.replace(
        '    """Documentation: 1 + 2 here is text, never mutated."""',
        '    """Longer documentation.\n\n    Args:\n        x: an array (x - 1 > 0).\n    """\n'
        "    unused = [1, 2, 3]",
    )
    shift = edited.count("\n") - TOY.count("\n")
    before = am.generate("toy", TOY)
    after = am.generate("toy", edited)
    assert [m.id for m in after] == [m.id for m in before]
    assert [m.line for m in after] == [m.line + shift for m in before]


def test_a_mutant_that_changes_nothing_or_does_not_compile_is_dropped(monkeypatch):
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x * 0.0\n    ### END SOLUTION\n"
    # 0.0 * 2 == 0.0 is the solution again; 0.0 + 1 is a real mutant
    consts = [m.id for m in am.generate("f", source) if m.operator == "const"]
    assert consts == ["f:L1:const:0.0->1.0"]
    candidates = [
        ("f:L1:x:a", "const", source.replace("0.0", "(0.0)"), 3),  # the same code
        ("f:L1:x:b", "const", source.replace("return", "retur n"), 3),  # does not parse
        ("f:L1:x:c", "const", source.replace("return x * 0.0", "nonlocal x"), 3),  # no compile
        ("f:L1:x:d", "const", source.replace("0.0", "1.0"), 3),
        ("f:L1:x:d", "const", source.replace("0.0", "2.0"), 3),
        ("f:L1:x:e", "const", source.replace("0.0", "2.0"), 3),  # the same mutant again
    ]
    monkeypatch.setattr(am._Generator, "candidates", lambda self: candidates)
    assert [m.id for m in am.generate("f", source)] == ["f:L1:x:d", "f:L1:x:d#2"]


def test_a_zero_slice_start_is_not_removed():
    source = "def f(x, n):\n    ### BEGIN SOLUTION\n    return x[0:n]\n    ### END SOLUTION\n"
    changed = {m.source.split("\n")[2].strip() for m in am.generate("f", source)}
    assert "return x[0:]" in changed and "return x[1:n]" in changed
    assert "return x[:n]" not in changed  # the same slice: not a mutant


def test_split_hidden_keeps_line_numbers():
    cell = "a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3"
    visible, hidden = am.split_hidden(cell)
    assert visible.split("\n") == ["a = 1", "", "", "", "c = 3"]
    assert hidden.split("\n") == ["", "", "b = 2", "", ""]


# ----------------------------------------------------------------------------------------------
# The runner on a toy unit (one worker process each: a second or two)
# ----------------------------------------------------------------------------------------------

SCALE = '''\
def scale(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2.0 * x
    ### END SOLUTION
'''
SCALE_TEST = """\
data = 1.0
assert scale(data) == 2.0, "scale(1.0) must be 2.0"
### BEGIN HIDDEN TESTS
assert np.allclose(scale(np.array([-1.0, 3.0])), [-2.0, 6.0]), "negative and large inputs"
### END HIDDEN TESTS
"""
TWICE = '''\
def twice_helper(x):
    """Twice what another exercise's helper returns."""
    ### BEGIN SOLUTION
    return 2 * helper(x)
    ### END SOLUTION
'''
TWICE_TEST = """\
with using(globals(), helper=lambda v: v + 1):
    assert twice_helper(1) == 4
### BEGIN HIDDEN TESTS
with using(globals(), helper=lambda v: v * 10):
    assert twice_helper(3) == 60
### END HIDDEN TESTS
"""


def _toy_unit(tmp_path, scale_solution: str = SCALE):
    def cell(source, gid, **meta):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
        return c

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        cell("import numpy as np\nfrom dlkit.testing import using", "setup", locked=True),
        cell(scale_solution, "scale", solution=True, grade=False),
        cell(SCALE_TEST, "test_scale", grade=True, locked=True, points=1),
        cell(TWICE, "twice_helper", solution=True, grade=False),
        cell(TWICE_TEST, "test_twice_helper", grade=True, locked=True, points=1),
    ]
    unit_dir = tmp_path / "solutions" / "99_toy"
    unit_dir.mkdir(parents=True)
    nbformat.write(nb, unit_dir / "99_toy.ipynb")
    return am.load_unit("99_toy", solutions=tmp_path / "solutions")


def _answer(body: str) -> str:
    return SCALE.replace("    return 2.0 * x\n", textwrap.indent(body, "    "))


def test_runner_verdicts(tmp_path):
    unit = _toy_unit(tmp_path)
    cases = {
        "visible": "return 3.0 * x\n",
        "hidden": "return 2.0 * abs(x)\n",
        "survived": "return x + x\n",
        "loops": "while True:\n    pass\n",
        "leaks": "return 2.0 * data\n",  # reads the test cell's `data`: only in the kernel
        # asks for 4 GiB (never touched), over the child's limit of 3 GiB more than the worker
        "hogs": "unused = np.empty(1 << 29)\nreturn 2.0 * x\n",
    }
    jobs = [
        {"id": k, "exercise": "scale", "answer": _answer(v), "timeout": 3.0}
        for k, v in cases.items()
    ]
    cell_raises = SCALE + "raise RuntimeError('the cell fails after the definition')\n"
    jobs.append({"id": "raises_in_cell", "exercise": "scale", "answer": cell_raises})
    jobs.append({"id": "helper_ok", "exercise": "twice_helper", "answer": TWICE})
    results = am.run_mutants(unit, jobs, parallel=2)
    verdicts = {k: r["verdict"] for k, r in results.items()}
    assert verdicts == {
        "visible": "visible",
        "hidden": "hidden",
        "survived": "survived",
        "loops": "visible",
        "leaks": "hidden",
        "hogs": "visible",
        "raises_in_cell": "visible",
        "helper_ok": "survived",  # using(globals(), ...) substitutes in both modes
    }, results
    assert results["loops"]["by"].endswith("timeout")
    assert "NameError" in results["leaks"]["by"]
    assert "MemoryError" in results["hogs"]["by"]


def test_generated_mutants_of_the_toy_unit_and_the_results_file(tmp_path, monkeypatch):
    unit = _toy_unit(tmp_path)
    mutants = am.unit_mutants(unit, "scale")
    results = am.run_mutants(unit, mutants, parallel=2)
    verdicts = {m.id: results[m.id]["verdict"] for m in mutants}
    assert verdicts["scale:L1:binop:*->/"] == "hidden"  # 2 / 1 == 2 * 1
    assert verdicts["scale:L1:const:2.0->4.0"] == "visible"
    monkeypatch.setattr(am, "AUTOMUTANTS_DIR", tmp_path / "automutants")
    path = am.write_results(unit, mutants, results)
    data = json.loads(path.read_text())
    assert data["hash"] == unit.digest()
    assert am.stored_verdicts(data) == verdicts
    sample = am.sample_ids(data, {"equivalent": {}, "accepted": {}}, size=1)
    assert "scale:L1:binop:*->/" in sample and len(sample) == 2


def test_a_solution_that_fails_its_tests_stops_the_run(tmp_path):
    unit = _toy_unit(tmp_path, _answer("return 2.0 * x + 1.0\n"))
    with pytest.raises(am.HarnessError, match="unmutated solution fails"):
        am.run_mutants(unit, am.unit_mutants(unit, "scale"), parallel=1)


def test_rates_and_allow_list_problems():
    verdicts = {"a": "visible", "b": "hidden", "c": "survived", "d": "survived"}
    allow = {"equivalent": {"c": "cannot change the result: x + 0"}, "accepted": {}}
    table = am.rates(verdicts, dict.fromkeys(verdicts, "ex"), allow)
    assert (table[""].counted, table[""].visible, table[""].caught) == (3, 1, 2)
    allow = {
        "equivalent": {"a": "claimed equivalent", "gone": "an old mutant id"},
        "accepted": {"d": "x"},
    }
    problems = "\n".join(am.allow_problems(allow, verdicts))
    assert "a: listed as equivalent but the visible tests catch it" in problems
    assert "gone: stale equivalent entry" in problems
    assert "d: accepted without a reason" in problems


# ----------------------------------------------------------------------------------------------
# The course's units
# ----------------------------------------------------------------------------------------------


def _rerun(unit: str) -> str:
    return f"run `.venv/bin/python tests/grading/automutate.py {unit} --write`"


def _current(unit_name: str, strict: bool = False):
    """``(unit, mutants, stored results)``. A missing or stale results file fails
    test_results_are_current (``strict``) with what to run, and skips the other tests."""
    unit = am.load_unit(unit_name)
    mutants = am.unit_mutants(unit)
    path = am.results_path(unit_name)
    stop = pytest.fail if strict else pytest.skip
    if not path.is_file():
        stop(f"{unit_name}: no {am.shown(path)}: {_rerun(unit_name)}")
    data = json.loads(path.read_text())
    changed = [
        name
        for name, ex in unit.exercises.items()
        if data["exercises"].get(name, {}).get("hash") != ex.digest(unit.setup)
    ]
    if data.get("hash") != unit.digest() or changed:
        stop(
            f"{unit_name}: {path.name} is out of date (changed since: "
            f"{', '.join(changed) or 'the setup cell or the tool'}): {_rerun(unit_name)}"
        )
    if set(am.stored_verdicts(data)) != {m.id for m in mutants}:
        stop(f"{unit_name}: {path.name} holds other mutants than today's: {_rerun(unit_name)}")
    return unit, mutants, data


@pytest.mark.parametrize("unit_name", UNITS)
def test_results_are_current(unit_name):
    _current(unit_name, strict=True)


@pytest.mark.parametrize("unit_name", UNITS)
def test_allow_list_is_clean(unit_name):
    unit, mutants, data = _current(unit_name)
    problems = am.allow_problems(am.load_allow(unit_name), am.stored_verdicts(data))
    assert not problems, f"{am.allow_path(unit_name).name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("unit_name", UNITS)
def test_thresholds(unit_name):
    unit, mutants, data = _current(unit_name)
    allow = am.load_allow(unit_name)
    verdicts = am.stored_verdicts(data)
    by_id = {m.id: m for m in mutants}
    table = am.rates(verdicts, {m.id: m.exercise for m in mutants}, allow)
    total = table[""]
    unlisted = am.unlisted_survivors(verdicts, allow)
    visible_only = [i for i, v in verdicts.items() if v == "hidden"]
    if total.meets() and not unlisted:
        return
    original = {name: ex.answer for name, ex in unit.exercises.items()}
    lines = [
        f"{unit_name}: the tests catch too few one-change mutants of the solutions",
        f"  visible: {100 * total.visible_rate:.1f}% (target {100 * am.TARGET_VISIBLE:g}%), "
        f"visible + hidden: {100 * total.all_rate:.1f}% (target {100 * am.TARGET_ALL:g}%) of "
        f"{total.counted} non-equivalent mutants",
        am.HEADER,
        *(table[n].line(f"  {n}") for n in unit.exercises if n in table),
    ]
    if unlisted:
        lines.append(
            f"  {len(unlisted)} pass visible AND hidden tests and are not allow-listed "
            "(strengthen a test, or list them in the allow-list with a reason):"
        )
        for i in unlisted[:SHOW]:
            lines.append(f"    {i}   {by_id[i].one_line(original[by_id[i].exercise])}")
    if total.visible_rate < am.TARGET_VISIBLE and visible_only:
        lines.append(f"  {len(visible_only)} pass the visible tests (only hidden catch them):")
        for i in visible_only[:SHOW]:
            lines.append(f"    {i}   {by_id[i].one_line(original[by_id[i].exercise])}")
    lines.append(
        f"  see them all: .venv/bin/python tests/grading/automutate.py {unit_name} --survivors"
    )
    pytest.fail("\n".join(lines))


@pytest.mark.slow
@pytest.mark.parametrize("unit_name", UNITS)
def test_stored_verdicts_reproduce(unit_name):
    unit, mutants, data = _current(unit_name)
    allow = am.load_allow(unit_name)
    size = len(mutants) if SAMPLE == "all" else int(SAMPLE)
    ids = am.sample_ids(data, allow, size)
    by_id = {m.id: m for m in mutants}
    results = am.run_mutants(unit, [by_id[i] for i in ids], parallel=1)
    stored = am.stored_verdicts(data)
    stored_by = {i: e["by"] for ex in data["exercises"].values() for i, e in ex["mutants"].items()}
    # a time limit depends on the machine's load: a verdict by timeout is not compared
    wrong = [
        f"  {i}: stored {stored[i]}, now {results[i]['verdict']} ({results[i]['by'] or 'passed'})"
        for i in ids
        if results[i]["verdict"] != stored[i]
        and not (stored_by[i].endswith(": timeout") or results[i]["by"].endswith(": timeout"))
    ]
    assert not wrong, (
        f"{unit_name}: re-run mutants disagree with {am.results_path(unit_name).name} "
        f"(dlkit or the environment changed?): {_rerun(unit_name)}\n" + "\n".join(wrong)
    )
