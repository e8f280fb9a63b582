"""The plan written out: ``table``, ``json``, ``cli`` (aws CLI commands), ``terraform``,
``cloudformation`` and ``eksctl``.

Only ``create`` rows become commands or resources; every other row is a comment saying what it
is and why, so nothing is created for a principal the plan could not carry. Pure: a plan in,
text out.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable

import yaml

from authenticator.console import PLAIN, Palette
from authenticator.migrate.plan import AccessPolicy, Plan, Row

__all__ = ["FORMATS", "render_plan"]

CLUSTER_VAR = "CLUSTER_NAME"


def _comment_lines(rows: Iterable[Row], marker: str) -> list[str]:
    out: list[str] = []
    for row in rows:
        if row.action == "create":
            continue
        out.append(f"{marker} {row.action}: {_printable(row.principal_arn)} ({row.source}, line {row.line})")
        for reason in row.reasons:
            out.append(f"{marker}   {_one_line(str(reason))}")
    return out


def _printable(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\n``, ``\\x1b``, ``\\u2028``):
    an ARN from aws-auth is anyone's string, and a line break in it would end the comment it is
    written in and run the rest as a command (-f cli) or parse it as code; an escape would drive
    the terminal the table is shown on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _one_line(text: str) -> str:
    return _printable(" ".join(text.split()))


def _creates(plan: Plan) -> list[Row]:
    return [r for r in plan.rows if r.action == "create"]


# -- table / json -------------------------------------------------------------------------------


# Notes worth a line under a create row (the rest of a create row's reasons are in -f json).
_CREATE_NOTES = frozenset({"duplicate", "role-path-never-matched"})


# How each action reads on a terminal: fine, nothing to do, needs a person, cannot move.
_ACTION_STYLES = {
    "create": ("green",),
    "exists": ("dim",),
    "skip-managed": ("dim",),
    "manual": ("yellow",),
    "conflict": ("yellow",),
    "blocked": ("bold", "red"),
}


def render_table(plan: Plan, palette: Palette = PLAIN) -> str:
    header = ("ACTION", "TYPE", "PRINCIPAL", "USERNAME", "GROUPS", "POLICIES", "SOURCE")
    lines = [header]
    for row in plan.rows:
        lines.append(
            (
                row.action,
                row.type or "-",
                _printable(row.principal_arn),
                _printable(row.username or "-"),
                _printable(",".join(row.groups) or "-"),
                ",".join(p.policy_arn.rsplit("/", 1)[-1] for p in row.policies) or "-",
                f"{row.source}:{row.line}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]
    if palette.enabled:  # styled after padding: escape codes have no width
        out[0] = palette.bold(out[0])
        for i, row in enumerate(plan.rows, start=1):
            action = row.action.ljust(widths[0])
            out[i] = palette.style(action, *_ACTION_STYLES.get(row.action, ())) + out[i][len(action) :]
    unknown_paths = 0
    for row in plan.rows:
        for reason in row.reasons:
            if reason.code == "role-path-unknown":
                unknown_paths += 1
            elif row.action != "create" or reason.code in _CREATE_NOTES:
                out.append(f"{row.source}: {row.action}: {_one_line(str(reason))}")
    if unknown_paths:
        out.append(
            f"{unknown_paths} role ARNs without a path: aws-auth has none and IAM was not asked "
            "(--resolve-paths gives each role's full ARN)"
        )
    summary = ", ".join(f"{count} {action}" for action, count in plan.summary.items()) or "nothing to migrate"
    cluster = f" for cluster {plan.cluster}" if plan.cluster else ""
    mode = f" (authentication mode {plan.authentication_mode})" if plan.authentication_mode else ""
    ready = palette.good("yes") if plan.ready_for_api_mode else palette.bad("no")
    out.append(f"plan{cluster}{mode}: {summary}; ready for API mode: {ready}")
    return "\n".join(out) + "\n"


def render_json(plan: Plan) -> str:
    """The plan as JSON, one row per line: readable and diffable, and written by the C encoder
    (``indent`` would switch json to its pure-Python one, the slowest part of a 7,000-row plan)."""
    doc = plan.as_json()
    rows = ",\n    ".join(json.dumps(row, ensure_ascii=False) for row in doc.pop("rows"))
    head = {k: doc[k] for k in ("cluster", "authenticationMode")}
    tail = {k: doc[k] for k in ("summary", "readyForApiMode")}
    parts = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items()]
    parts.append('  "rows": [' + (f"\n    {rows}\n  ]" if rows else "]"))
    parts += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in tail.items()]
    return "{\n" + ",\n".join(parts) + "\n}\n"


# -- aws CLI ---------------------------------------------------------------------------------------


def cli_commands(plan: Plan) -> list[list[str]]:
    """argv of every aws CLI call the ``create`` rows need (cluster name as ``$CLUSTER_NAME`` when unknown)."""
    cluster = plan.cluster or f"${CLUSTER_VAR}"
    commands: list[list[str]] = []
    for row in _creates(plan):
        argv = ["aws", "eks", "create-access-entry", "--cluster-name", cluster, "--principal-arn", row.principal_arn]
        argv += ["--type", row.type or "STANDARD"]
        if row.username:
            argv += ["--username", row.username]
        if row.groups:
            argv += ["--kubernetes-groups", *row.groups]
        commands.append(argv)
        for policy in row.policies:
            scope = f"type={policy.scope_type}"
            if policy.namespaces:
                scope += ",namespaces=" + ",".join(policy.namespaces)
            commands.append(
                [
                    "aws",
                    "eks",
                    "associate-access-policy",
                    "--cluster-name",
                    cluster,
                    "--principal-arn",
                    row.principal_arn,
                    "--policy-arn",
                    policy.policy_arn,
                    "--access-scope",
                    scope,
                ]
            )
    return commands


def _shell_word(word: str) -> str:
    if word == f"${CLUSTER_VAR}":
        return f'"${CLUSTER_VAR}"'
    return shlex.quote(word)


def render_cli(plan: Plan) -> str:
    out = ["#!/bin/sh", "# aws-auth migrate: access entries for the create rows of the plan", "set -eu"]
    if plan.cluster is None:
        out.append(f': "${{{CLUSTER_VAR}:?set {CLUSTER_VAR} to the cluster name}}"')
    out += _comment_lines(plan.rows, "#")
    out += [" ".join(_shell_word(w) for w in argv) for argv in cli_commands(plan)]
    return "\n".join(out) + "\n"


# -- Terraform ------------------------------------------------------------------------------------


def _hcl_string(value: str) -> str:
    # HCL string escapes, and ${ / %{ would start an interpolation or a directive.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def _names(rows: Iterable[Row], prefix: str = "") -> Callable[[Row], str]:
    """Stable, unique identifiers (Terraform resource names, CloudFormation logical ids) per row."""
    taken: dict[int, str] = {}
    used: set[str] = set()
    for row in rows:
        base = row.principal_arn.rsplit("/", 1)[-1] or "principal"
        kind = row.principal_arn.split(":", 5)[-1].split("/", 1)[0]
        name = prefix + re.sub(r"[^A-Za-z0-9]+", "_" if not prefix else "", f"{kind}_{base}")
        name = name.strip("_") or "principal"
        if not prefix and not name[0].isalpha():
            name = "p_" + name
        candidate, n = name, 2
        while candidate.lower() in used:
            candidate, n = f"{name}{'_' if not prefix else ''}{n}", n + 1
        used.add(candidate.lower())
        taken[id(row)] = candidate
    return lambda row: taken[id(row)]


def render_terraform(plan: Plan) -> str:
    out = ["# aws-auth migrate: access entries for the create rows of the plan"]
    out += [
        'variable "cluster_name" {',
        "  type    = string",
        *([f"  default = {_hcl_string(plan.cluster)}"] if plan.cluster else []),
        "}",
        "",
    ]
    out += _comment_lines(plan.rows, "#")
    creates = _creates(plan)
    exists = [r for r in plan.rows if r.action == "exists"]
    name_of = _names([*creates, *exists])
    for row in creates:
        name = name_of(row)
        out += ["", f'resource "aws_eks_access_entry" "{name}" {{']
        out.append("  cluster_name  = var.cluster_name")
        out.append(f"  principal_arn = {_hcl_string(row.principal_arn)}")
        out.append(f"  type          = {_hcl_string(row.type or 'STANDARD')}")
        if row.username:
            out.append(f"  user_name     = {_hcl_string(row.username)}")
        if row.groups:
            out.append(f"  kubernetes_groups = [{', '.join(_hcl_string(g) for g in row.groups)}]")
        out.append("}")
        for i, policy in enumerate(row.policies):
            suffix = "" if i == 0 else f"_{i + 1}"
            out += ["", f'resource "aws_eks_access_policy_association" "{name}{suffix}" {{']
            out.append("  cluster_name  = var.cluster_name")
            out.append(f"  principal_arn = aws_eks_access_entry.{name}.principal_arn")
            out.append(f"  policy_arn    = {_hcl_string(policy.policy_arn)}")
            out.append("  access_scope {")
            out.append(f"    type       = {_hcl_string(policy.scope_type)}")
            if policy.namespaces:
                out.append(f"    namespaces = [{', '.join(_hcl_string(n) for n in policy.namespaces)}]")
            out.append("  }")
            out.append("}")
    if exists:
        out += ["", "# Entries the cluster already has: import them (terraform plan -generate-config-out=...)."]
    for row in exists:
        out += ["", "import {", f"  to = aws_eks_access_entry.{name_of(row)}"]
        out.append(f'  id = "${{var.cluster_name}}:{_hcl_string(row.principal_arn)[1:-1]}"')
        out.append("}")
    return "\n".join(out) + "\n"


def _policy_doc(policy: AccessPolicy, arn_key: str, scope_key: str, type_key: str, ns_key: str) -> dict[str, object]:
    """An access policy association in a document's own spelling of the keys (CloudFormation, eksctl)."""
    scope: dict[str, object] = {type_key: policy.scope_type}
    if policy.namespaces:
        scope[ns_key] = list(policy.namespaces)
    return {arn_key: policy.policy_arn, scope_key: scope}


# -- CloudFormation -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _dump(document: object) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=10_000)


def render_cloudformation(plan: Plan) -> str:
    creates = _creates(plan)
    name_of = _names(creates, prefix="AccessEntry")
    resources: dict[str, object] = {}
    for row in creates:
        props: dict[str, object] = {
            "ClusterName": {"Ref": "ClusterName"},
            "PrincipalArn": row.principal_arn,
            "Type": row.type or "STANDARD",
        }
        if row.username:
            props["Username"] = row.username
        if row.groups:
            props["KubernetesGroups"] = list(row.groups)
        if row.policies:
            props["AccessPolicies"] = [
                _policy_doc(p, "PolicyArn", "AccessScope", "Type", "Namespaces") for p in row.policies
            ]
        resources[name_of(row)] = {"Type": "AWS::EKS::AccessEntry", "Properties": props}
    parameter: dict[str, object] = {"Type": "String", "Description": "Name of the EKS cluster"}
    if plan.cluster:
        parameter["Default"] = plan.cluster
    document: dict[str, object] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "EKS access entries migrated from the aws-auth ConfigMap (aws-auth migrate)",
    }
    if resources:
        document["Parameters"] = {"ClusterName": parameter}
        document["Resources"] = resources
    else:
        # A template needs one resource: a handle that creates nothing keeps it valid and deployable.
        document["Resources"] = {"NothingToCreate": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
    head = ["# aws-auth migrate: access entries for the create rows of the plan", *_comment_lines(plan.rows, "#")]
    return "\n".join(head) + "\n" + _dump(document)


# -- eksctl -----------------------------------------------------------------------------------------


def render_eksctl(plan: Plan, region: str | None = None) -> str:
    entries: list[dict[str, object]] = []
    for row in _creates(plan):
        entry: dict[str, object] = {"principalARN": row.principal_arn, "type": row.type or "STANDARD"}
        if row.username:
            entry["kubernetesUsername"] = row.username
        if row.groups:
            entry["kubernetesGroups"] = list(row.groups)
        if row.policies:
            entry["accessPolicies"] = [
                _policy_doc(p, "policyARN", "accessScope", "type", "namespaces") for p in row.policies
            ]
        entries.append(entry)
    metadata: dict[str, object] = {"name": plan.cluster or "CLUSTER_NAME"}
    if region:
        metadata["region"] = region
    document = {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": metadata,
        "accessConfig": {"accessEntries": entries},
    }
    head = [
        "# aws-auth migrate: access entries for the create rows of the plan (eksctl create accessentry -f FILE)",
        *_comment_lines(plan.rows, "#"),
    ]
    return "\n".join(head) + "\n" + _dump(document)


FORMATS = ("table", "json", "cli", "terraform", "cloudformation", "eksctl")


def render_plan(plan: Plan, fmt: str, *, region: str | None = None, palette: Palette = PLAIN) -> str:
    """The plan in ``fmt``; only the table (for a person) is ever coloured."""
    if fmt == "table":
        return render_table(plan, palette)
    if fmt == "json":
        return render_json(plan)
    if fmt == "cli":
        return render_cli(plan)
    if fmt == "terraform":
        return render_terraform(plan)
    if fmt == "cloudformation":
        return render_cloudformation(plan)
    if fmt == "eksctl":
        return render_eksctl(plan, region)
    raise ValueError(f"unknown format {fmt!r}")
