"""Encoder, single-turn and dialogue evaluation."""
