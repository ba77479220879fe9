"""Errors the engine raises for input it refuses."""


class MediaRejected(ValueError):
    """A file that is not an acceptable photo or video; ``str(exc)`` is for the user."""
