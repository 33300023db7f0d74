"""Side-by-side speed of session_ext and its peers (see docs/performance.md)."""
