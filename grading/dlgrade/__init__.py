"""Instructor-side grading tools of the deep-learning course, built on nbgrader.

``dlgrade`` is a thin, strict wrapper: every command runs real nbgrader (as a subprocess, from
``grading/``, with config-file errors made fatal) and checks what nbgrader leaves behind.
See ``grading/README.md`` for the instructor's workflow.
"""
