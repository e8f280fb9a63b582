"""Build a ``kubernetes.client.ApiClient`` the way the reference's ``clientcmd.BuildConfigFromFlags`` does.

- ``--kubeconfig`` given: that file (its current context); ``--master`` overrides the server URL.
- only ``--master``: that URL, no credentials (a local, insecure-port style API server).
- neither: the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT and the mounted token).

``load_user_api_client`` is what a person's command uses (``aws-auth lint --live``,
``eks-iam-authenticator add|remove``): as kubectl, the kubeconfig (``--kubeconfig``, else
``$KUBECONFIG``, else ``~/.kube/config``) and its context, else the in-cluster account.
"""

from __future__ import annotations

import os

import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from authenticator.errors import UserError

__all__ = ["KubeConfigError", "load_api_client", "load_user_api_client"]


class KubeConfigError(UserError):
    """No usable Kubernetes client configuration; the message is one line for the user."""


def load_api_client(*, kubeconfig: str | None = None, master: str | None = None) -> k8s_client.ApiClient:
    if kubeconfig:
        if not os.path.exists(kubeconfig):
            raise KubeConfigError(f"kubeconfig {kubeconfig} does not exist")
        return _from_kubeconfig(kubeconfig, context=None, master=master)
    if master:
        return _from_master(master)
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except ConfigException as err:
        raise KubeConfigError(
            f"not running in a cluster and neither --kubeconfig nor --master given ({_one_line(err)})"
        ) from None
    return k8s_client.ApiClient(configuration)


def load_user_api_client(
    *, kubeconfig: str | None = None, context: str | None = None, master: str | None = None
) -> k8s_client.ApiClient:
    """A client as kubectl builds one: ``kubeconfig`` or the default kubeconfig (``$KUBECONFIG``,
    else ``~/.kube/config``) with ``context`` (default: its current one), ``master`` overriding its
    server; without any kubeconfig file, ``master`` alone, else the in-cluster service account."""
    if kubeconfig and not os.path.exists(kubeconfig):
        raise KubeConfigError(f"kubeconfig {kubeconfig} does not exist")
    path = kubeconfig or _default_kubeconfig()
    if path is not None:
        return _from_kubeconfig(path, context=context, master=master)
    if master:
        return _from_master(master)
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except ConfigException:
        raise KubeConfigError(
            "no kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config) and not running in a cluster"
        ) from None
    return k8s_client.ApiClient(configuration)


def _from_kubeconfig(path: str, *, context: str | None, master: str | None) -> k8s_client.ApiClient:
    """The kubeconfig ``path`` with ``context`` (None: its current one), ``master`` overriding its server."""
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(
            config_file=path, context=context, client_configuration=configuration, persist_config=False
        )
    except (ConfigException, OSError, ValueError, TypeError, yaml.YAMLError) as err:
        # The kubernetes client reports a malformed kubeconfig with any of these.
        raise KubeConfigError(f"cannot load kubeconfig {path}: {_one_line(err)}") from None
    if master:
        configuration.host = master.rstrip("/")
    return k8s_client.ApiClient(configuration)


def _from_master(master: str) -> k8s_client.ApiClient:
    """That URL, no credentials (a local, insecure-port style API server)."""
    configuration = k8s_client.Configuration()
    configuration.host = master.rstrip("/")
    return k8s_client.ApiClient(configuration)


def _default_kubeconfig() -> str | None:
    """``$KUBECONFIG`` (the kubernetes client merges a ``:``-separated list) or ``~/.kube/config``,
    when one of its files exists."""
    from kubernetes.config.kube_config import ENV_KUBECONFIG_PATH_SEPARATOR

    value = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    paths = [os.path.expanduser(p) for p in value.split(ENV_KUBECONFIG_PATH_SEPARATOR) if p]
    return value if any(os.path.exists(p) for p in paths) else None


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
