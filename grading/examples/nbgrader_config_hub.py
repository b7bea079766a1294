"""nbgrader settings of the course on a JupyterHub, shared by students and graders.

Install it as ``/etc/jupyter/nbgrader_config.py`` in the image every single-user server runs
(and on the grading machine). nbgrader reads it in addition to the ``nbgrader_config.py`` of
its working directory: on the grading machine that is ``grading/nbgrader_config.py`` of this
repository, whose settings (folders, timeouts, preprocessors, sandbox) take precedence; this
file only adds what a Hub needs -- the exchange and the course id.  See docs/SCALING.md.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

COURSE_ID = "dl-course"  # must equal dlgrade.paths.COURSE_ID

# The exchange: one folder shared by every server (an NFS or CephFS mount), through which
# `nbgrader release_assignment`, students' "Fetch"/"Submit" buttons and `nbgrader collect` move
# notebooks.  Students need write access to <root>/<course>/inbound only.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
c.CourseDirectory.course_id = COURSE_ID

# Graders (formgrader service and grading workers): the gradebook is a server database so that
# the formgrader and `dlgrade grade` on other machines share it.  Students never read it: their
# servers get no DLGRADE_DB_URL and no credentials.
if os.environ.get("DLGRADE_DB_URL"):
    c.CourseDirectory.db_url = os.environ["DLGRADE_DB_URL"]
