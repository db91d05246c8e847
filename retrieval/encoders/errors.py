"""Errors that encoders raise with a one-line message for the user."""

from __future__ import annotations


class HubUnavailableError(RuntimeError):
    """A hub model was asked for but could not be downloaded (usually: no network)."""
