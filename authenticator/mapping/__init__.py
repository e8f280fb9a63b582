"""Identity → Kubernetes user: the aws-auth model, parser, templates, sources and chain (mapping.md)."""

from authenticator.mapping.chain import MappedUser, MappingChain, MappingDenied, MappingSource, Match
from authenticator.mapping.model import MappingSet, RoleMapping, SSOMatcher, UserMapping
from authenticator.mapping.templates import TemplateDenied, needs_ec2, render

__all__ = [
    "MappedUser",
    "MappingChain",
    "MappingDenied",
    "MappingSet",
    "MappingSource",
    "Match",
    "RoleMapping",
    "SSOMatcher",
    "TemplateDenied",
    "UserMapping",
    "needs_ec2",
    "render",
]
