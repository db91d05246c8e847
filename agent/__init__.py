"""Dialogue state, feedback rewriting and the turn policy."""
