"""JupyterHub and nbgrader's exchange end to end, with the example configs of docs/SCALING.md.

One test, on the cheap toy unit, with a real JupyterHub (and configurable-http-proxy) on
127.0.0.1 that loads grading/examples/jupyterhub_config.py, and Unix accounts made for the
test: two students and an instructor.

1. The students' servers get the course's student image settings: jupyter/student with the
   Assignments tab on, and grading/examples/nbgrader_config_hub.py as their nbgrader config
   (hub_server.student_image_config); the exchange is a fresh folder (mode 1777).
2. As the instructor account: ``dlgrade release toy`` and ``nbgrader release_assignment toy``.
3. Through the Hub's REST API (an admin service token) each student's server is started and
   the student gets a token; through the proxy and the server's nbgrader endpoints (what the
   Assignments tab calls) both students list and fetch the unit; each writes an answer into the
   fetched notebook with the Jupyter contents API -- one correct, one with a wrong ``relu`` --
   and submits. The fetched files belong to the student's account, and a student cannot list
   the exchange's inbound folder (the others' submissions).
4. As the instructor: ``nbgrader collect toy``, ``dlgrade grade toy --no-sandbox`` (below),
   ``dlgrade feedback toy`` and ``nbgrader release_feedback toy``; the gradebook holds the
   expected automatic scores.
5. Each student fetches the feedback through the server; the answer lists it as the
   Assignments tab shows it, and the page, read with the contents API, shows that student's
   score (5 and 3 of 6: the written answer is graded by hand) and no line of a hidden test.

The accounts run the repository's ``.venv`` when they may; where its interpreter is private
(a pyenv under /root) they run a copy of it pointed at the ``.venv``'s packages
(hub_server.account_python). ``dlgrade grade`` runs with ``--no-sandbox`` on every machine, so
that the test takes one path everywhere: the sandbox shows the kernel its interpreter's prefix,
which for the copy is not the ``.venv`` behind it (the sandbox has tests of its own:
test_sandbox.py, test_grade_command.py); the notebooks graded here are the toy's own.

The Hub's example settings are overridden only where a test must: ports and files of the Hub,
the exchange root, the accounts (roster and instructors), ``COURSE_SPAWNER=local`` (no Docker
here), the dummy authenticator (no single sign-on: nobody logs in, the API tokens are made by
the admin service) and the services (the formgrader service needs the grader account's
checkout, the idle culler its package; neither takes part here). Everything -- accounts, their
processes, the Hub, the temporary folder -- is removed at the end, also on failure.

Needs root (useradd, runuser and the Hub's LocalProcessSpawner), the ``jupyterhub`` package and
configurable-http-proxy (``npm install -g configurable-http-proxy``); without the last two it
skips and says so.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from adversarial.cases import hidden_lines
from grading_harness import REPO, TOY_SOURCE, build_submission
from hub_server import Accounts, account_python, find_proxy, start_hub, student_image_config

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "grading" / "examples" / "jupyterhub_config.py"
COURSE = "dl-course"
UNIT = "toy"
RELU_WRONG = "def relu(x):\n    return np.abs(x)"
FULL = {"test_relu": 2.0, "test_mse": 2.0, "test_mse__symmetric": 1.0}
EXPECTED = {"good": FULL, "wrong": {**FULL, "test_relu": 0.0}}


def _requirements() -> str:
    if importlib.util.find_spec("jupyterhub") is None:
        pytest.skip("jupyterhub is not installed: .venv/bin/pip install jupyterhub")
    proxy = find_proxy()
    if proxy is None:
        pytest.skip(
            "configurable-http-proxy not found (PATH or $CONFIGPROXY_BIN): "
            "npm install -g configurable-http-proxy"
        )
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates Unix accounts and runs the Hub's local spawner")
    return proxy


def _tail(done, lines: int = 40) -> str:
    return "\n".join((done.stdout + done.stderr).splitlines()[-lines:])


def _text(page: str) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_release_fetch_submit_collect_grade_feedback_through_jupyterhub():
    proxy = _requirements()
    tag = secrets.token_hex(3)
    work = Path(tempfile.mkdtemp(prefix="dlhub-", dir="/tmp"))
    work.chmod(0o755)  # the accounts reach their homes, the exchange, the Python
    (work / "homes").mkdir(mode=0o755)
    accounts = Accounts(work / "homes")
    hub = None
    try:
        instructor = accounts.add(f"dlhub-ins-{tag}")
        students = {
            "good": accounts.add(f"dlhub-stu1-{tag}"),
            "wrong": accounts.add(f"dlhub-stu2-{tag}"),
        }
        py = account_python(accounts, instructor, work)
        python = py.python

        exchange = work / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)  # docs/SCALING.md: nbgrader makes the course's folders in it
        image = student_image_config(work / "image-etc-jupyter")
        venv = Path(sys.prefix)
        config_path = f"{image}{os.pathsep}{venv / 'etc' / 'jupyter'}"
        data_path = str(venv / "share" / "jupyter")  # the lab extensions (nbgrader's too)
        roster = work / "students.csv"
        roster.write_text("id,first_name\n" + "".join(f"{s},{s}\n" for s in students.values()))
        for item in (image, *image.rglob("*"), roster):
            item.chmod(0o755 if item.is_dir() else 0o644)

        # the instructor's grading folders (DLGRADE_*), the toy unit as the source
        grader = work / "grader"
        (grader / "source" / UNIT).mkdir(parents=True)
        shutil.copy(TOY_SOURCE, grader / "source" / UNIT / f"{UNIT}.ipynb")
        accounts.chown(grader, instructor)
        grader_env = {
            "PATH": f"{py.bin}:/usr/bin:/bin",
            **py.env,
            "DLGRADE_SOURCE_DIR": str(grader / "source"),
            "DLGRADE_RELEASE_DIR": str(grader / "release"),
            "DLGRADE_STATE_DIR": str(grader / "state"),
            "DLGRADE_CELL_TIMEOUT": "60",
            "NBGRADER_EXCHANGE_ROOT": str(exchange),
            "JUPYTER_CONFIG_PATH": config_path,  # nbgrader_config_hub.py on the grader too
            "JUPYTER_PATH": data_path,
            "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }

        def as_instructor(*args: str) -> str:
            done = accounts.run(instructor, [python, "-m", *args], grader_env, REPO / "grading")
            assert done.returncode == 0, f"{' '.join(args)} as the instructor:\n{_tail(done)}"
            return done.stdout + done.stderr

        as_instructor("dlgrade.cli", "release", UNIT)
        as_instructor("nbgrader", "release_assignment", UNIT)
        assert (exchange / COURSE / "outbound" / UNIT / f"{UNIT}.ipynb").is_file()

        hub_env = {
            **os.environ,
            "COURSE_SPAWNER": "local",
            "COURSE_SINGLEUSER_PYTHON": python,
            "COURSE_JUPYTER_CONFIG": config_path,
            "COURSE_AUTHENTICATOR": "dummy",
            "COURSE_ROSTER": str(roster),
            "COURSE_INSTRUCTORS": instructor,
            "NBGRADER_EXCHANGE_ROOT": str(exchange),
        }
        hub_env.pop("DLGRADE_DB_URL", None)
        overrides = f"""
# The formgrader service (the grader account's checkout) and the idle culler (its package) of
# the example are not part of this test; an admin service gives the test its API token.
c.JupyterHub.services = [{{"name": "dlhub-test", "api_token": TEST_TOKEN}}]
c.JupyterHub.load_roles = [
    r for r in c.JupyterHub.load_roles if not r.get("services")
] + [{{
    "name": "dlhub-test",
    "services": ["dlhub-test"],
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
}}]
c.Spawner.environment = {{
    **c.Spawner.environment,
    "JUPYTER_PATH": {data_path!r},
    "PATH": {f"{py.bin}:/usr/bin:/bin"!r},
    **{py.env!r},
}}
"""
        hub = start_hub(work, EXAMPLE, hub_env, overrides, proxy)

        release = nbformat.read(grader / "release" / UNIT / f"{UNIT}.ipynb", as_version=4)
        source = nbformat.read(TOY_SOURCE, as_version=4)
        answers = {
            "good": build_submission(release, source),
            "wrong": build_submission(release, source, replace={"relu": RELU_WRONG}),
        }
        tokens, fetched = {}, {}
        for who, name in students.items():
            hub.start_server(name)
            tokens[who] = hub.user_token(name)
        for who, name in students.items():  # JupyterLab as the student image configures it
            page = hub.request("GET", f"/user/{name}/lab", token=tokens[who], raw=True)
            found = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)
            assert found, f"{name}'s /lab is not JupyterLab: {page[:300]}"
            lab = json.loads(found.group(1))
            assert "@jupyter/nbgrader:assignment-list" not in lab["disabledExtensions"], lab
            assert "@jupyter/nbgrader:formgrader" in lab["disabledExtensions"], lab
            assert "@jupyter/nbgrader" in {e["name"] for e in lab["federated_extensions"]}
        query = {"course_id": COURSE, "assignment_id": UNIT}
        for who, name in students.items():
            base = f"/user/{name}"
            listed = hub.request("GET", f"{base}/assignments?course_id={COURSE}", token=tokens[who])
            assert listed["success"], listed
            assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [
                (UNIT, "released")
            ]
            after = hub.request("POST", f"{base}/assignments/fetch", query, token=tokens[who])
            entry = next(a for a in after["value"] if a["status"] == "fetched")
            fetched[who] = entry["notebooks"][0]["path"]  # relative to the student's home
            copy = accounts.home(name) / fetched[who]
            assert copy.is_file() and copy.stat().st_uid == pwd.getpwnam(name).pw_uid  # their own
        for who, name in students.items():
            base = f"/user/{name}"
            nb = hub.request("GET", f"{base}/api/contents/{fetched[who]}", token=tokens[who])
            assert "BEGIN HIDDEN TESTS" not in str(nb["content"])  # the release has none
            body = {"type": "notebook", "format": "json", "content": answers[who]}
            hub.request("PUT", f"{base}/api/contents/{fetched[who]}", body, token=tokens[who])
            submitted = hub.request("POST", f"{base}/assignments/submit", query, token=tokens[who])
            assert submitted.get("success", True) is not False, submitted
            assert any(a["status"] == "submitted" for a in submitted["value"]), submitted
        inbound = exchange / COURSE / "inbound"
        assert len(list(inbound.iterdir())) == 2
        peek = accounts.run(
            students["wrong"], ["ls", str(inbound)], {"PATH": "/usr/bin:/bin"}, work
        )
        assert peek.returncode != 0, f"a student can list the others' submissions: {peek.stdout}"

        as_instructor("nbgrader", "collect", UNIT)
        for name in students.values():
            assert (grader / "state" / "submitted" / name / UNIT / f"{UNIT}.ipynb").is_file()
        # --no-sandbox: see the module docstring
        graded = as_instructor("dlgrade.cli", "grade", UNIT, "--workers", "2", "--no-sandbox")
        scores = _scores(grader / "state" / "gradebook.db", list(students.values()))
        for who, name in students.items():
            assert scores[name] == EXPECTED[who], f"{name} ({who}): {scores[name]}\n{graded}"
        as_instructor("dlgrade.cli", "feedback", UNIT)
        for name in students.values():  # nbgrader release_feedback reads both
            folder = grader / "state" / "feedback" / name / UNIT
            lacking = [
                f for f in ("timestamp.txt", "submission_secret.txt") if not (folder / f).is_file()
            ]
            assert not lacking, (
                f"{folder} lacks {lacking}: nbgrader's files of the collected submission must go "
                "from submitted/ through autograded/ into feedback/ (dlgrade grade left them out)"
            )
        as_instructor("nbgrader", "release_feedback", UNIT)

        hidden = hidden_lines(source)
        assert hidden, "the toy unit has no hidden tests to look for"
        for who, name in students.items():
            base = f"/user/{name}"
            after = hub.request(
                "POST", f"{base}/assignments/fetch_feedback", query, token=tokens[who]
            )
            feedback = [  # what the Assignments tab shows: each submission's feedback
                sub
                for a in after["value"]
                if a["status"] == "submitted"
                for sub in a["submissions"]
                if sub["has_local_feedback"]
            ]
            assert len(feedback) == 1, f"{name}: {after}"
            assert [nb["notebook_id"] for nb in feedback[0]["notebooks"]] == [UNIT]
            page = f"{feedback[0]['local_feedback_path']}/{UNIT}.html"  # relative to the home
            assert (accounts.home(name) / page).is_file(), page
            got = hub.request(
                "GET", f"{base}/api/contents/{quote(page)}?type=file&format=text", token=tokens[who]
            )
            text = _text(got["content"])
            total = sum(EXPECTED[who].values())
            assert re.search(rf"Score: {total:g}(\.0)? / 6(\.0)?", text), f"{name}: {text[:600]}"
            leaked = [line for line in hidden if re.sub(r"\s+", " ", line) in text]
            assert not leaked, f"{name}'s feedback shows hidden test lines: {leaked}"
    finally:
        problems = []
        if hub is not None:
            print(f"--- the Hub's log ---\n{hub.log_tail(80)}")  # shown when the test fails
            hub.stop()
        problems += accounts.remove()
        shutil.rmtree(work, ignore_errors=True)
        assert not problems, problems


def _scores(db: Path, students: list[str]) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}", COURSE) as gb:
        return {
            s: {
                g.name: g.auto_score
                for nb in gb.find_submission(UNIT, s).notebooks
                for g in nb.grades
                if g.name in FULL
            }
            for s in students
        }
