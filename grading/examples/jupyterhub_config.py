"""JupyterHub for the deep-learning course: students, a formgrader service, nbgrader exchange.

A sketch to adapt, kept runnable (tests/grading/test_scaling_examples.py loads it): one Hub
with DockerSpawner (every student in a container of the course image, memory and CPU capped),
the course repository cloned into each server, the nbgrader exchange on a shared volume, and
the formgrader running as a Hub service under a dedicated grader account, reachable by the
instructors only.  For several hundred students move the same settings to Kubernetes
(zero-to-jupyterhub: ``singleuser.memory``, ``singleuser.storage.extraVolumes`` for the
exchange, ``hub.services``); see docs/SCALING.md.

Environment variables choose the deployment's parts, so that tests/grading/test_jupyterhub.py
runs this very file on one machine without Docker or single sign-on:

    COURSE_SPAWNER          ``docker`` (default) or ``local``: LocalProcessSpawner, every server
                            a process of the student's own Unix account (a lab machine, a test)
    COURSE_SINGLEUSER_PYTHON  with ``local``: the Python that runs ``jupyterhub.singleuser``
                            (one the students' accounts may execute; default ``python3``)
    COURSE_JUPYTER_CONFIG   with ``local``: the folder that plays the image's /etc/jupyter
                            (nbgrader_config_hub.py as nbgrader_config.py, the server settings)
    COURSE_AUTHENTICATOR    the authenticator class (default: generic OAuth single sign-on)
    COURSE_ROSTER, COURSE_INSTRUCTORS, NBGRADER_EXCHANGE_ROOT, COURSE_IMAGE, DLGRADE_DB_URL
"""

import csv
import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

COURSE_ID = "dl-course"
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
IMAGE = os.environ.get("COURSE_IMAGE", "registry.example.org/dl-course:2026")
ROSTER = Path(os.environ.get("COURSE_ROSTER", "/srv/jupyterhub/students.csv"))
INSTRUCTORS = os.environ.get("COURSE_INSTRUCTORS", "instructor").split(",")
SPAWNER = os.environ.get("COURSE_SPAWNER", "docker")
FORMGRADER_PORT = 9999


def roster_ids(path: Path) -> list[str]:
    """Student ids from the course roster (the CSV of `dlgrade students import`)."""
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return [row["id"].strip() for row in csv.DictReader(fh) if row.get("id", "").strip()]


students = roster_ids(ROSTER)

# --- who may log in --------------------------------------------------------------------------
# Use your institution's single sign-on (OAuthenticator, LTI for an LMS...).
c.JupyterHub.authenticator_class = os.environ.get(
    "COURSE_AUTHENTICATOR", "oauthenticator.generic.GenericOAuthenticator"
)
c.Authenticator.allowed_users = set(students) | set(INSTRUCTORS)
c.Authenticator.admin_users = set(INSTRUCTORS)

# --- student servers -------------------------------------------------------------------------
if SPAWNER == "docker":
    c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
    c.DockerSpawner.image = IMAGE  # built from environment.yml + `pip install -e .` of the repo
    c.DockerSpawner.mem_limit = "4G"  # the course's notebooks need < 2 GB
    c.DockerSpawner.cpu_limit = 1.0
    c.DockerSpawner.remove = True
    c.DockerSpawner.volumes = {
        "jupyterhub-user-{username}": "/home/jovyan/work",  # the student's files persist
        EXCHANGE: EXCHANGE,  # the nbgrader exchange (read-only except <course>/inbound)
    }
    image_settings = {}  # the image's own /etc/jupyter holds them
elif SPAWNER == "local":
    # Every student is a Unix account of this machine; the server runs as that account in its
    # home folder, so the exchange's permissions (inbound write-only) apply to real users.
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
    python = os.environ.get("COURSE_SINGLEUSER_PYTHON", "python3")
    c.Spawner.cmd = [python, "-m", "jupyterhub.singleuser"]
    c.Spawner.notebook_dir = "~"
    # No memory or CPU cap: LocalProcessSpawner enforces none (use systemdspawner for them).
    image_settings = {
        "JUPYTER_CONFIG_PATH": os.environ.get("COURSE_JUPYTER_CONFIG", "/etc/jupyter")
    }
else:
    raise ValueError(f"COURSE_SPAWNER={SPAWNER!r}: expected 'docker' or 'local'")
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"NBGRADER_EXCHANGE_ROOT": EXCHANGE, **image_settings}

# --- groups and roles: who sees the course, who grades ---------------------------------------
c.JupyterHub.load_groups = {
    f"nbgrader-{COURSE_ID}": {"users": students},  # the Assignments tab lists the course
    f"formgrade-{COURSE_ID}": {"users": INSTRUCTORS},  # may open the formgrader service
}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{COURSE_ID}",
        "groups": [f"formgrade-{COURSE_ID}"],
        "scopes": [f"access:services!service={COURSE_ID}"],
    },
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
]

# --- the formgrader: a Hub service running a Jupyter server as the grader account -------------
# It runs from <repository>/grading so that grading/nbgrader_config.py applies; its gradebook
# is the course's PostgreSQL database (DLGRADE_DB_URL), shared with the grading workers.
c.JupyterHub.services = [
    {
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        "command": [
            "jupyterhub-singleuser",
            f"--port={FORMGRADER_PORT}",
            "--ServerApp.root_dir=/home/grader-dl-course/dl-course",
        ],
        "user": "grader-dl-course",
        "cwd": "/home/grader-dl-course/dl-course/grading",
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR": "1",
            "DLGRADE_DB_URL": os.environ.get("DLGRADE_DB_URL", ""),
            "NBGRADER_EXCHANGE_ROOT": EXCHANGE,
        },
    },
    {
        "name": "idle-culler",
        "command": ["python3", "-m", "jupyterhub_idle_culler", "--timeout=3600"],
    },
]
