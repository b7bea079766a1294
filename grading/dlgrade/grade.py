"""``dlgrade grade UNIT``: grade a whole class, each submission sandboxed, in parallel.

How it works (see grading/README.md, "Grading a class"):

1. **Roster.** Every student in the gradebook and every ``submitted/<student>/<UNIT>/``
   folder is accounted for; a student with neither folder nor notebook is ``missing``.
2. **Preparation (host).** Each submission is copied into a private scratch folder; a
   notebook saved under another name (``01_perceptron (1).ipynb``) is graded under the
   released name with a note; malformed JSON or an invalid notebook is ``invalid`` with the
   parser's message; an older nbformat (v3) is converted to v4 with a note.
3. **Grading (parallel workers).** Each worker runs real ``nbgrader autograde`` for ONE
   student against a private copy of the gradebook, so parallel workers never write to the
   same database.  The kernel runs in the bubblewrap sandbox (:mod:`dlgrade.sandbox`);
   :mod:`dlgrade.execute` keeps partial results when it dies or times out.
4. **Recording (one host process, serially).** Each student's scores are copied from the
   private gradebook into the course gradebook (any SQLAlchemy URL), the autograded
   notebooks into ``autograded/``, and a status record (:mod:`dlgrade.status`) is saved.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from dlgrade.collect import expected_notebooks
from dlgrade.errors import DlgradeError
from dlgrade.nbgrader_run import nbgrader_env, run_nbgrader
from dlgrade.paths import COURSE_ID, Layout
from dlgrade.results import in_gradebook, scores, submitted_students
from dlgrade.sandbox import ENV_FIGURES, ENV_SANDBOX, Limits, require_bwrap
from dlgrade.status import (
    CRASHED,
    GRADED,
    INVALID,
    MISSING,
    NEEDS_ATTENTION,
    Record,
    from_notebooks,
    save,
)
from dlgrade.workers import run_nbgrader as run_nbgrader_forked

_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".DS_Store")


def default_workers() -> int:
    """Parallel workers when ``--workers`` is not given: two per core (kernels start slowly)."""
    return 2 * (os.cpu_count() or 1)


@dataclass
class Job:
    """One student's prepared submission, waiting for a worker."""

    student: str
    folder: Path  # the prepared copy of the submission (``.../<student>/<unit>``)
    notes: list[str]
    state: Path | None = None  # private nbgrader state of the batch that graded it


def batches(jobs: list, workers: int) -> list[list]:
    """Split ``jobs`` into batches, about two per worker: one nbgrader process per batch
    amortises nbgrader's start-up, and more batches than workers balance the load."""
    if not jobs:
        return []
    size = max(1, -(-len(jobs) // (2 * workers)))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def roster(layout: Layout) -> list[str]:
    """Ids of the students in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        return sorted(s.id for s in gb.students)


def _renamed(expected: str, extras: list[Path], single: bool) -> Path | None:
    """The notebook in ``extras`` a student most likely meant as ``expected``."""
    stem = Path(expected).stem.lower()
    similar = [p for p in extras if stem in p.stem.lower()]
    if similar:
        return max(similar, key=lambda p: (p.stat().st_mtime, p.name))
    return extras[0] if single and len(extras) == 1 else None


def prepare(layout: Layout, unit: str, student: str, scratch: Path) -> Job | Record:
    """Copy ``student``'s submission into ``scratch``; a :class:`Record` if it cannot be graded."""
    folder = layout.submitted / student / unit
    if not folder.is_dir():
        return Record(student, MISSING, f"no submission (no folder {folder})")
    dest = scratch / "prepared" / student / unit
    shutil.copytree(folder, dest, ignore=_IGNORE, symlinks=True)
    notes = []
    for link in sorted(p for p in dest.rglob("*") if p.is_symlink()):
        # nbgrader would copy the link's target -- anything on the grading machine -- into
        # the autograded folder, which the kernel sees
        link.unlink()
        notes.append(f"ignored the symbolic link {link.relative_to(dest)}")
    expected = expected_notebooks(layout, unit)
    extras = sorted(p for p in dest.glob("*.ipynb") if p.name not in expected)
    for name in expected:
        if not (dest / name).is_file():
            found = _renamed(name, extras, single=len(expected) == 1)
            if found is not None:
                found.rename(dest / name)
                extras.remove(found)
                notes.append(f"graded {found.name!r} as {name!r} (the notebook was renamed)")
    present = [name for name in expected if (dest / name).is_file()]
    if not present:
        listing = ", ".join(p.name for p in sorted(folder.iterdir())) or "nothing"
        return Record(student, MISSING, f"{folder} holds no {' or '.join(expected)} ({listing})")
    notes += [f"no {name} (its exercises score 0)" for name in expected if name not in present]
    for name in present:
        problem = _check_notebook(dest / name, notes)
        if problem:
            return Record(student, INVALID, f"{name}: {problem}; nothing was run", notes)
    return Job(student, dest, notes)


def _check_notebook(path: Path, notes: list[str]) -> str | None:
    """Why ``path`` is not a gradable notebook (None if it is); converts nbformat 3 to 4."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        version = json.loads(text).get("nbformat")
    except (json.JSONDecodeError, AttributeError) as exc:
        return f"not valid notebook JSON ({exc})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for a broken notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"not a valid notebook ({first})"
    if version != 4:
        nbformat.write(nb, path)
        notes.append(f"{path.name} converted from nbformat {version} to 4")
    return None


def _template_gradebook(layout: Layout, unit: str, scratch: Path) -> Path:
    """A SQLite snapshot of the course gradebook holding ``unit``, for the workers to copy."""
    target = scratch / "template.db"
    if not layout.database_url:
        with sqlite3.connect(layout.gradebook) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # consistent even while another reader has it open
        return target
    # A server database (e.g. PostgreSQL): record the unit in a local SQLite file the same
    # way `dlgrade release` recorded it in the course gradebook.
    local = replace(
        layout, state=scratch / "template", release=scratch / "template-release", database_url=""
    )
    proc = run_nbgrader(["generate_assignment", unit, "--force"], local, capture=True)
    if proc.returncode != 0:
        raise DlgradeError(f"could not record {unit} in a local gradebook:\n{proc.stderr[-2000:]}")
    shutil.copy(local.gradebook, target)
    return target


def _autograde(layout: Layout, unit: str, batch: list[Job], state: Path, template, env) -> str:
    """Run ONE ``nbgrader autograde`` for the students of ``batch`` in the private ``state``
    folder (its own copy of the gradebook), forked from the already-warm nbgrader of
    :mod:`dlgrade.workers`; return nbgrader's log."""
    for job in batch:
        (state / "submitted" / job.student).mkdir(parents=True)
        (state / "submitted" / job.student / unit).symlink_to(job.folder, target_is_directory=True)
        job.state = state
    shutil.copy(template, state / "gradebook.db")
    private = replace(layout, state=state, database_url="")
    args = ["autograde", unit, "--force"]
    if len(batch) == 1:
        args.append(f"--student={batch[0].student}")
    log = state / "nbgrader.log"
    run_nbgrader_forked(args, {**nbgrader_env(private), **env}, layout.config_dir, log)
    return log.read_text(errors="replace")


def _failure(student: str, log: str, notes: list[str]) -> Record:
    """The record of a student whose autograding wrote no notebook."""
    errors = [line for line in log.splitlines() if "ERROR" in line or "Error" in line]
    detail = errors[-1].split("]", 1)[-1].strip() if errors else "see the grading log"
    if "Kernel died" in log or "kernel" in detail.lower():
        return Record(student, CRASHED, f"the kernel could not run the notebook: {detail}", notes)
    return Record(student, INVALID, f"nbgrader could not grade the notebook: {detail}", notes)


def _record_scores(layout: Layout, unit: str, done: list[Job]) -> None:
    """Copy each student's autograde results from its private gradebook into the course one."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook(layout.db_url, COURSE_ID) as course, warnings.catch_warnings():
        # nbgrader's update_or_create_submission triggers harmless autoflush warnings
        warnings.simplefilter("ignore", SAWarning)
        by_batch: dict[Path, list[Job]] = {}
        for job in done:
            by_batch.setdefault(job.state, []).append(job)
        for state, group in by_batch.items():
            with Gradebook(f"sqlite:///{state / 'gradebook.db'}", COURSE_ID) as own:
                for job in group:
                    _copy_submission(own, course, unit, job.student)


def _copy_submission(own, course, unit: str, student: str) -> None:
    """Copy ``student``'s automatic results from gradebook ``own`` into ``course``."""
    src = own.find_submission(unit, student)
    course.update_or_create_student(student)
    sub = course.update_or_create_submission(unit, student)
    sub.timestamp = src.timestamp
    for nb in src.notebooks:
        dst_nb = course.find_submission_notebook(nb.name, unit, student)
        dst_nb.late_submission_penalty = nb.late_submission_penalty
        for grade in nb.grades:
            dst = course.find_grade(grade.name, nb.name, unit, student)
            dst.auto_score = grade.auto_score  # manual scores are left as they are
            dst.needs_manual_grade = grade.needs_manual_grade
        for comment in nb.comments:
            dst = course.find_comment(comment.name, nb.name, unit, student)
            dst.auto_comment = comment.auto_comment
    course.db.commit()


def grade(
    layout: Layout,
    unit: str,
    students: list[str] | None = None,
    workers: int | None = None,
    sandbox: bool = True,
    limits: Limits | None = None,
    figures: bool = False,
    say=print,
) -> dict[str, Record]:
    """Grade ``unit`` for the whole class (or ``students``); return every student's record.

    ``figures=False`` (the default): sandboxed kernels do not draw matplotlib figures (see
    :mod:`dlgrade.sandbox`); scores, messages and text outputs are the same either way."""
    unit = layout.require_unit(unit)
    if sandbox:
        require_bwrap()
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise DlgradeError(f"--workers {workers}: expected at least 1")
    if not in_gradebook(layout, unit):
        raise DlgradeError(
            f"UNIT {unit!r} is not in the gradebook {layout.db_url}; run "
            f"'dlgrade release {unit}' first (grading needs the release recorded there)"
        )
    everyone = sorted(set(roster(layout)) | set(submitted_students(layout, unit)))
    if students:
        unknown = [s for s in students if s not in everyone]
        if unknown:
            raise DlgradeError(
                f"--student {', '.join(unknown)}: not in the gradebook and no folder "
                f"{layout.submitted}/<student>/{unit}; known: {', '.join(everyone) or 'none'}"
            )
        everyone = sorted(set(students))
    scratch = layout.state / ".scratch" / f"{unit}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    lock = (layout.state / ".scratch" / f"{unit}.lock").open("w")
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DlgradeError(
                f"UNIT {unit!r} is being graded by another 'dlgrade grade' right now "
                f"(lock {lock.name}); wait for it to finish"
            ) from None
        return _grade(
            layout, unit, everyone, workers, sandbox, limits or Limits(), figures, scratch, say
        )
    finally:
        lock.close()
        if not os.environ.get("DLGRADE_KEEP_SCRATCH"):
            shutil.rmtree(scratch, ignore_errors=True)


def _grade(
    layout, unit, everyone, workers, sandbox, limits, figures, scratch, say
) -> dict[str, Record]:
    start = time.monotonic()
    records: dict[str, Record] = {}
    jobs = []
    for student in everyone:
        outcome = prepare(layout, unit, student, scratch)
        if isinstance(outcome, Record):
            records[student] = outcome
        else:
            jobs.append(outcome)
    template = _template_gradebook(layout, unit, scratch)
    env = {ENV_SANDBOX: "1" if sandbox else "0", ENV_FIGURES: "1" if figures else "0"}
    env.update(limits.to_env())
    mode = "sandboxed" if sandbox else "NOT sandboxed (--no-sandbox)"
    if sandbox and not figures:
        mode += ", figures not drawn (--figures draws them)"
    say(f"grading {len(jobs)} submission(s) of {unit} with {workers} worker(s), {mode}")
    groups = batches(jobs, workers)
    logs = _run_batches(layout, unit, groups, scratch, template, env, workers)
    retry = [j for j in jobs if not _graded_notebooks(j, unit)]
    if retry and any(len(g) > 1 for g in groups):
        # alone, to get each failure's own log (and to rule out a batch-wide problem)
        again = _run_batches(layout, unit, [[j] for j in retry], scratch, template, env, workers)
        logs.update(again)
    log_dir = layout.state / "logs" / unit
    log_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for job in jobs:
        (log_dir / f"{job.student}.log").write_text(logs[job.student])
        notebooks = _graded_notebooks(job, unit)
        if not notebooks:
            records[job.student] = _failure(job.student, logs[job.student], job.notes)
            continue
        records[job.student] = from_notebooks(
            job.student, [json.loads(p.read_text()) for p in notebooks], job.notes
        )
        done.append(job)
    _record_scores(layout, unit, done)
    _register_students(layout, [s for s in records if records[s].status != GRADED])
    for job in done:
        target = layout.autograded / job.student / unit
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(job.state / "autograded" / job.student / unit, target)
    for student, (score, max_score, _) in scores(layout, unit, [j.student for j in done]).items():
        records[student].score, records[student].max_score = score, max_score
    save(layout, unit, records)
    _report(records, unit, time.monotonic() - start, say)
    return records


def _graded_notebooks(job: Job, unit: str) -> list[Path]:
    folder = job.state / "autograded" / job.student / unit if job.state else None
    return sorted(folder.glob("*.ipynb")) if folder is not None and folder.is_dir() else []


def _run_batches(layout, unit, groups, scratch, template, env, workers) -> dict[str, str]:
    """Grade the ``groups`` of jobs on ``workers`` threads; ``{student: log of its batch}``."""
    first = len(list(scratch.glob("batch-*")))
    states = [scratch / f"batch-{first + k}" for k in range(len(groups))]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(
            pool.map(
                lambda pair: _autograde(layout, unit, pair[0], pair[1], template, env),
                zip(groups, states, strict=True),
            )
        )
    return {job.student: log for group, log in zip(groups, outputs, strict=True) for job in group}


def _register_students(layout: Layout, students: list[str]) -> None:
    """Make sure every accounted-for student appears in the gradebook (and so the export)."""
    from nbgrader.api import Gradebook

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        for student in students:
            gb.update_or_create_student(student)


def _report(records: dict[str, Record], unit: str, seconds: float, say) -> None:
    for sid, rec in sorted(records.items()):
        score = f"{rec.score:6.2f} / {rec.max_score:.2f}" if rec.score is not None else " " * 13
        say(f"{sid:24} {rec.status:9} {score}  {rec.explanation}".rstrip())
    counts = {}
    for rec in records.values():
        counts[rec.status] = counts.get(rec.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    say(f"graded {unit} for {len(records)} student(s) in {seconds:.1f} s: {summary}")


def exit_status(records: dict[str, Record]) -> int:
    """1 when any submission needs the instructor's attention (see status.NEEDS_ATTENTION)."""
    return 1 if any(r.status in NEEDS_ATTENTION for r in records.values()) else 0
