"""Mapping sources ("backend modes"): each loads a MappingSet and keeps it current."""

from authenticator.mapping.sources.file import MOUNTED_FILE, MountedFileSource, SourceStatus

__all__ = ["MOUNTED_FILE", "MountedFileSource", "SourceStatus"]
