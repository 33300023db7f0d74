"""Example applications built on session_ext (``./dev run`` starts ``flask_app``)."""
