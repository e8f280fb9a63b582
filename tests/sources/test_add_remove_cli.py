"""``add`` (--sso, --append) and ``remove`` through the installed console script, against the
kube-apiserver stand-in; and the kubeconfig lookup ``add`` shares with ``aws-auth lint --live``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from authenticator.mapping.awsauth import parse_aws_auth
from tests.support.kube_apiserver import CONFIGMAPS_KUBE_SYSTEM, KubeApiServer

BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::111122223333:role/admins"
USER = "arn:aws:iam::111122223333:user/alice"
SSO = "permissionSetName=Admin,accountID=111122223333"
NODES = """# nodes: keep this comment
- rolearn: arn:aws:iam::111122223333:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    # No KUBECONFIG or KUBERNETES_SERVICE_HOST from the developer's shell: the test decides.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8", **extra}


def _run(*argv: str, env: dict[str, str], script: str = "eks-iam-authenticator") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / script), *argv], env=env, capture_output=True, text=True, timeout=60)


def _ok(*argv: str, env: dict[str, str]) -> str:
    result = _run(*argv, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _fails(*argv: str, env: dict[str, str]) -> str:
    result = _run(*argv, env=env)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr


def _data(standin: KubeApiServer) -> dict[str, Any]:
    cm = standin.get(CONFIGMAPS_KUBE_SYSTEM, "aws-auth")
    assert cm is not None
    data: dict[str, Any] = cm["data"]
    return data


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def cluster(standin: KubeApiServer, kubeconfig: Path, home: Path) -> tuple[KubeApiServer, dict[str, str], str]:
    """The stand-in holding the nodes' entry, an environment, and the --kubeconfig flag's value."""
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapRoles": NODES}})
    return standin, _env(home), str(kubeconfig)


# -- add --sso ------------------------------------------------------------------------------


def test_add_sso_role(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    out = _ok(
        "add",
        "role",
        "--sso",
        SSO,
        "--username",
        "sso:{{SessionName}}",
        "--groups",
        "devs",
        "--kubeconfig",
        kubeconfig,
        env=env,
    )
    assert out == "added sso aws:111122223333:Admin as sso:{{SessionName}} in kube-system/aws-auth\n"
    data = _data(standin)
    assert data["mapRoles"].startswith(NODES)  # appended to the text: the comment survives
    result = parse_aws_auth(data)
    assert result.ok
    sso = result.roles[-1]
    assert sso.sso is not None and sso.rolearn is None
    assert (sso.sso.permission_set_name, sso.sso.account_id, sso.sso.partition) == ("Admin", "111122223333", "aws")
    assert (sso.username, sso.groups) == ("sso:{{SessionName}}", ("devs",))
    # The same permission set again (its name compared without case) is a duplicate.
    again = _fails(
        "add", "role", "--sso", SSO.replace("Admin", "ADMIN"), "--username", "x", "--kubeconfig", kubeconfig, env=env
    )
    assert "already in aws-auth mapRoles" in again


def test_add_sso_with_partition_given_in_two_flags(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    _ok(
        "add", "role", "--sso", "permissionSetName=Ops,accountID=222233334444", "--sso", "partition=aws-cn",
        "--username", "ops", "--kubeconfig", kubeconfig, env=env,
    )  # fmt: skip
    sso = parse_aws_auth(_data(standin)).roles[-1].sso
    assert sso is not None and (sso.permission_set_name, sso.account_id, sso.partition) == (
        "Ops",
        "222233334444",
        "aws-cn",
    )


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--sso", "permissionSetName=Admin"), "required key 'accountID' missing from --sso"),
        (("--sso", "accountID=111122223333"), "required key 'permissionSetName' missing"),
        (("--sso", f"{SSO},color=red"), "unknown key 'color' in --sso"),
        (("--sso", "Admin"), "--sso takes KEY=VALUE pairs"),
        (("--sso", "permissionSetName=Admin,accountID=1234"), "accountID must be 12 digits"),
        (("--sso", SSO, "--rolearn", ROLE), "only one of --rolearn or --sso"),
        ((), "--rolearn or --sso is required"),
    ],
)
def test_bad_sso_is_one_line(
    cluster: tuple[KubeApiServer, dict[str, str], str], flags: tuple[str, ...], fragment: str
) -> None:
    standin, env, kubeconfig = cluster
    err = _fails("add", "role", *flags, "--username", "x", "--kubeconfig", kubeconfig, env=env)
    assert fragment in err
    assert standin.count("PUT") == 0


# -- add --append ---------------------------------------------------------------------------


def test_append_merges_groups_into_the_existing_entry(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    add = ("add", "role", "--rolearn", ROLE, "--kubeconfig", kubeconfig)
    _ok(*add, "--username", "admin", "--groups", "a,b", env=env)
    assert "not adding a duplicate (--append merges groups into it)" in _fails(*add, "--username", "admin", env=env)

    out = _ok(*add, "--username", "boss", "--groups", "b,c", "--append", env=env)
    assert out == f"updated role {ROLE}: username boss, groups +c in kube-system/aws-auth\n"
    roles = parse_aws_auth(_data(standin)).roles
    assert [(r.rolearn, r.username, r.groups) for r in roles if r.rolearn == ROLE] == [(ROLE, "boss", ("a", "b", "c"))]
    assert len(roles) == 2

    puts = standin.count("PUT")
    out = _ok(*add, "--username", "boss", "--groups", "c", "--append", env=env)
    assert "nothing to change" in out
    assert standin.count("PUT") == puts  # nothing written


def _append_alice(group: str, kubeconfig: str) -> tuple[str, ...]:
    user = ("--userarn", USER, "--username", "alice")
    return ("add", "user", *user, "--groups", group, "--append", "--kubeconfig", kubeconfig)


def test_append_adds_a_missing_entry(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    _ok(*_append_alice("devs", kubeconfig), env=env)
    assert [(u.userarn, u.groups) for u in parse_aws_auth(_data(standin)).users] == [(USER, ("devs",))]


def test_append_merges_into_an_entry_spelled_otherwise(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    # Keys in another case, the ARN in capitals; and the group "y", which yaml.v2 (so the server)
    # reads as a boolean unless it is written quoted.
    standin, env, kubeconfig = cluster
    standin.apply(
        CONFIGMAPS_KUBE_SYSTEM,
        "aws-auth",
        {"data": {"mapUsers": f"- UserARN: {USER.upper()}\n  UserName: a\n  Groups: [x]\n"}},
    )
    _ok(*_append_alice("y", kubeconfig), env=env)
    users = parse_aws_auth(_data(standin)).users
    assert [(u.username, u.groups) for u in users] == [("alice", ("x", "y"))]


# -- remove ---------------------------------------------------------------------------------


def test_remove_role_user_and_sso(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    k = ("--kubeconfig", kubeconfig)
    _ok("add", "role", "--rolearn", ROLE, "--username", "admin", *k, env=env)
    _ok("add", "role", "--sso", SSO, "--username", "sso", *k, env=env)
    _ok("add", "user", "--userarn", USER, "--username", "alice", *k, env=env)

    out = _ok("remove", "role", "--rolearn", ROLE.replace("admins", "ADMINS"), *k, env=env)
    assert out == f"removed role {ROLE.replace('admins', 'ADMINS')} (1 entry) in kube-system/aws-auth\n"
    _ok("remove", "role", "--sso", SSO, *k, env=env)
    _ok("remove", "user", "--userarn", USER, *k, env=env)
    result = parse_aws_auth(_data(standin))
    assert result.ok
    assert [r.rolearn for r in result.roles] == ["arn:aws:iam::111122223333:role/nodes"]
    assert result.users == ()

    assert f"user {USER} is not in aws-auth mapUsers; nothing removed" in _fails(
        "remove", "user", "--userarn", USER, *k, env=env
    )


def test_remove_takes_every_duplicate(cluster: tuple[KubeApiServer, dict[str, str], str]) -> None:
    standin, env, kubeconfig = cluster
    twice = f"- userarn: {USER}\n  username: a\n- userarn: {USER}\n  username: b\n"
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapUsers": twice, "mapRoles": NODES}})
    assert "(2 entries)" in _ok("remove", "user", "--userarn", USER, "--kubeconfig", kubeconfig, env=env)
    data = _data(standin)
    assert data["mapUsers"] == "" and data["mapRoles"] == NODES


def test_remove_without_the_configmap_is_one_line(standin: KubeApiServer, kubeconfig: Path, home: Path) -> None:
    err = _fails("remove", "user", "--userarn", USER, "--kubeconfig", str(kubeconfig), env=_env(home))
    assert "ConfigMap kube-system/aws-auth does not exist" in err
    assert standin.get(CONFIGMAPS_KUBE_SYSTEM, "aws-auth") is None


def test_remove_of_a_broken_section_is_refused(standin: KubeApiServer, kubeconfig: Path, home: Path) -> None:
    standin.apply(CONFIGMAPS_KUBE_SYSTEM, "aws-auth", {"data": {"mapUsers": "- userarn: [unclosed"}})
    err = _fails("remove", "user", "--userarn", USER, "--kubeconfig", str(kubeconfig), env=_env(home))
    assert "does not parse" in err and standin.count("PUT") == 0


@pytest.mark.parametrize("verb", ["add", "remove"])
def test_conflicts_are_retried(cluster: tuple[KubeApiServer, dict[str, str], str], verb: str) -> None:
    standin, env, kubeconfig = cluster
    if verb == "remove":
        _ok("add", "user", "--userarn", USER, "--username", "alice", "--kubeconfig", kubeconfig, env=env)
    puts, gets = standin.count("PUT"), standin.count("GET", "/configmaps/aws-auth")
    standin.inject_conflicts(2)  # the API server answers 409 twice, as when someone else writes
    extra = ("--username", "alice", "--groups", "more", "--append") if verb == "add" else ()
    _ok(verb, "user", "--userarn", USER, *extra, "--kubeconfig", kubeconfig, env=env)
    assert standin.count("PUT") - puts == 3
    assert standin.count("GET", "/configmaps/aws-auth") - gets == 3  # each retry re-reads
    users = parse_aws_auth(_data(standin)).users
    assert [u.groups for u in users] == ([("more",)] if verb == "add" else [])


# -- which cluster: kubectl's lookup, shared with `aws-auth lint --live` --------------------


def _default_kubeconfig(standin: KubeApiServer, home: Path) -> Path:
    kube = home / ".kube"
    kube.mkdir()
    return standin.write_kubeconfig(kube).rename(kube / "config")


def test_add_falls_back_to_the_home_kubeconfig(standin: KubeApiServer, home: Path) -> None:
    _default_kubeconfig(standin, home)
    _ok("add", "user", "--userarn", USER, "--username", "alice", env=_env(home))
    assert [u.userarn for u in parse_aws_auth(_data(standin)).users] == [USER]
    # lint --live reads the same cluster through the same lookup.
    lint = _run("lint", "--live", env=_env(home), script="aws-auth")
    assert lint.returncode == 0, lint.stderr + lint.stdout


def test_add_follows_the_kubeconfig_env(standin: KubeApiServer, home: Path, tmp_path: Path) -> None:
    path = standin.write_kubeconfig(tmp_path)
    # A list, as kubectl takes it; its first file is missing.
    kubeconfig_env = f"{tmp_path / 'missing'}:{path}"
    _ok("add", "user", "--userarn", USER, "--username", "alice", env=_env(home, KUBECONFIG=kubeconfig_env))
    assert [u.userarn for u in parse_aws_auth(_data(standin)).users] == [USER]


def test_kubeconfig_context_is_honoured(standin: KubeApiServer, home: Path, tmp_path: Path) -> None:
    config = yaml.safe_load(standin.write_kubeconfig(tmp_path).read_text())
    # The current context points at a server nobody serves; --kubeconfig-context picks the stand-in.
    config["clusters"].append({"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}})
    config["contexts"].append({"name": "gone", "context": {"cluster": "gone", "user": "tester"}})
    config["current-context"] = "gone"
    path = tmp_path / "two-contexts"
    path.write_text(yaml.safe_dump(config))
    base = ("add", "user", "--userarn", USER, "--username", "alice", "--kubeconfig", str(path))
    assert "cannot reach the API server" in _fails(*base, env=_env(home))
    _ok(*base, "--kubeconfig-context", "standin", env=_env(home))
    assert [u.userarn for u in parse_aws_auth(_data(standin)).users] == [USER]


def test_no_kubeconfig_anywhere_is_one_line(home: Path) -> None:
    err = _fails("add", "user", "--userarn", USER, "--username", "alice", env=_env(home))
    assert "no kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config) and not running in a cluster" in err
