"""Puts this directory on ``sys.path`` (pytest's rootdir-relative import of
conftest files), so ``import flaskr`` finds the app package as in its own
project."""
