"""ServerConfig: the YAML file of docs/cli.md, flags on top, one clear line for every mistake."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from authenticator.cli import build_parser
from authenticator.server.config import ConfigError, load_config, load_config_with_warnings, overrides_from_args

FULL = """\
clusterID: demo-cluster
server:
  address: 127.0.0.2
  port: 31000
  hostname: webhook.example
  stateDir: /tmp/state-x
  generateKubeconfig: /tmp/state-x/webhook.kubeconfig
  backendMode: [File]
  partition: aws-cn
  mapRoles:
    - rolearn: arn:aws:iam::111122223333:role/eks-admins
      username: "admin:{{SessionName}}"
      groups: [eks-admins]
  mapUsers:
    - userarn: arn:aws:iam::111122223333:user/alice
      username: alice
      groups: [devs]
  mapAccounts: [012345670123, "444455556666"]
  awsAuthFile: config/aws-auth.yaml
  reservedPrefixConfig:
    - backendMode: DynamicFile
      usernamePrefixReserveList: ["aws:", "system:"]
  scrubbedAccounts: [999988887777]
  stsEndpointOverride: https://127.0.0.1:4566
  stsCABundle: /tmp/ca.pem
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_every_key_of_cli_md_is_read(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, FULL))
    assert config.cluster_id == "demo-cluster"
    assert (config.address, config.port, config.hostname) == ("127.0.0.2", 31000, "webhook.example")
    assert config.state_dir == "/tmp/state-x"
    assert str(config.kubeconfig_path) == "/tmp/state-x/webhook.kubeconfig"
    assert config.backend_mode == ("MountedFile",)
    assert config.partition == "aws-cn"
    assert config.map_roles[0]["username"] == "admin:{{SessionName}}"
    assert config.map_users[0]["userarn"] == "arn:aws:iam::111122223333:user/alice"
    # raw text: the leading zero survives (PyYAML alone would read an octal integer)
    assert config.map_accounts == ["012345670123", "444455556666"]
    assert config.aws_auth_file == "config/aws-auth.yaml"
    assert config.reserved_prefix_config == {"DynamicFile": ("aws:", "system:")}
    assert config.scrubbed_accounts == ("999988887777",)
    assert config.sts_endpoint_override == "https://127.0.0.1:4566"
    assert config.sts_ca_bundle == "/tmp/ca.pem"


def test_defaults() -> None:
    config = load_config(None, {"cluster_id": "c"})
    assert (config.address, config.port, config.hostname) == ("127.0.0.1", 21362, "localhost")
    assert config.backend_mode == ("MountedFile",)
    assert config.partition == "aws"
    assert config.state_dir == "./state"
    assert config.kubeconfig_path == Path("./state/aws-iam-authenticator.kubeconfig")
    assert (config.map_roles, config.map_users, config.map_accounts) == ([], [], [])
    assert config.kubeconfig_pregenerated is False


def test_keys_are_case_insensitive(tmp_path: Path) -> None:
    text = "CLUSTERid: c\nServer:\n  PORT: 4000\n  backendmode: mountedfile\n  STATEDIR: /x\n"
    config = load_config(_write(tmp_path, text))
    assert (config.cluster_id, config.port, config.backend_mode, config.state_dir) == (
        "c",
        4000,
        ("MountedFile",),
        "/x",
    )


def test_unknown_keys_are_warned_about_not_fatal(tmp_path: Path) -> None:
    _, warnings = load_config_with_warnings(_write(tmp_path, "clusterID: c\nserver:\n  prot: 1\n"))
    assert warnings == ["unknown config key 'server.prot' ignored"]


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, FULL)
    args = build_parser().parse_args(
        ["server", "-c", path, "-i", "other", "--port", "4444", "--backend-mode", "File", "--partition", "aws"]
    )
    config = load_config(args.config, overrides_from_args(args))
    assert (config.cluster_id, config.port, config.partition) == ("other", 4444, "aws")
    assert config.address == "127.0.0.2"  # not given as a flag: the file's value stays


def test_backend_mode_flag_is_an_ordered_comma_list() -> None:
    config = load_config(None, {"cluster_id": "c", "backend_mode": "MountedFile, ConfigMap,crd"})
    assert config.backend_mode == ("MountedFile", "EKSConfigMap", "CRD")


def test_overrides_skip_flags_left_unset() -> None:
    args = argparse.Namespace(cluster_id=None, port=None, address="0.0.0.0", kubeconfig_pregenerated=None)
    assert overrides_from_args(args) == {"address": "0.0.0.0"}


def test_reference_map_shape_of_reserved_prefixes() -> None:
    config = load_config(
        None,
        {"cluster_id": "c", "reserved_prefix_config": {"dynamicfile": {"usernamePrefixReserveList": ["eks:"]}}},
    )
    assert config.reserved_prefix_config == {"DynamicFile": ("eks:",)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("server: {port: 1}\n", "missing clusterID"),
        ("clusterID: ''\n", "missing clusterID"),
        ('clusterID: "prod\\r\\nX-Injected: 1"\n', "must be printable ASCII"),
        ("clusterID: prod-ü\n", "must be printable ASCII"),
        ("clusterID: c\nserver: {backendMode: [Nope]}\n", "unknown backend mode 'Nope'"),
        ("clusterID: c\nserver: {backendMode: [File, MountedFile]}\n", "backend mode MountedFile is listed twice"),
        ("clusterID: c\nserver: {partition: aws-moon}\n", "unknown partition 'aws-moon'"),
        ("clusterID: c\nserver: {port: 70000}\n", "server.port"),
        ("clusterID: c\nserver: {port: http}\n", "server.port"),
        ("clusterID: c\nserver: {mapRoles: {rolearn: x}}\n", "server.mapRoles: must be a list of mappings"),
        ("clusterID: c\nserver: {mapUsers: [alice]}\n", "server.mapUsers: must be a list of mappings"),
        ("clusterID: c\nserver: {stsEndpointOverride: 'http://x'}\n", "https://"),
        ("clusterID: c\nserver: {stsCABundle: /ca.pem}\n", "stsEndpointOverride"),
        ("clusterID: c\nserver: [1]\n", "server must be a mapping"),
        ("- 1\n", "must be a YAML mapping"),
        ("clusterID: [unclosed\n", "not valid YAML (line"),
    ],
)
def test_each_mistake_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*nope\.yaml: No such file"):
        load_config(str(tmp_path / "nope.yaml"))
