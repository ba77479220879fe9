"""The one error the media engines raise for input they refuse."""


class MediaRejected(ValueError):
    """A file that is not an acceptable photo or video; ``str(exc)`` is for the user."""
