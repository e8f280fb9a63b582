"""A small layer over the official ``kubernetes`` client: client construction and list+watch."""

from authenticator.kube.client import KubeConfigError, load_api_client
from authenticator.kube.watch import Backoff, ListWatcher, WatchHandler

__all__ = ["Backoff", "KubeConfigError", "ListWatcher", "WatchHandler", "load_api_client"]
