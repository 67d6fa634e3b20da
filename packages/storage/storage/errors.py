"""Errors the application sees from the storage facade."""


class StorageError(Exception):
    """Base class; a provider wraps its backend's unexpected errors in it."""


class ObjectNotFound(StorageError, KeyError):
    def __init__(self, key: str):
        super().__init__(f"no object at {key!r}")
        self.key = key

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidKey(StorageError, ValueError):
    """The key is empty, absolute, contains `..`, a backslash or a control character, or is too long."""


class NotSupported(StorageError, NotImplementedError):
    """The provider cannot do this (e.g. presigned URLs on the local filesystem)."""
