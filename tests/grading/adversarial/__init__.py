"""The adversarial corpus: submissions that try to break or cheat grading (see cases.py)."""
