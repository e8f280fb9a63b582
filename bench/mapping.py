"""Benchmark S5 of docs/performance.md: a mapping lookup with 100,000 entries vs with 10 entries.

    .venv/bin/python -m bench.mapping [--runs N] [--batch B]

What the server does per review: ``MappingChain.resolve(identity)`` over the sources of
``--backend-mode`` (here MountedFile-like static sources built from the real model, plus an empty
DynamicFile-style userid source, so the lookup protocol is on the path too). The entries are half
roles, half users, plus an SSO pattern; the lookups cycle over identities that hit roles, hit users
and miss (falling through to the next source's mapAccounts). Both chains are timed round-robin
(machine drift hits them alike): N batches of B lookups each, per-lookup median of the batches.
Not a test: it prints a table and exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from authenticator.identity import Identity
from authenticator.mapping.chain import MappingChain
from authenticator.mapping.model import MappingSet, RoleMapping, SSOMatcher, UserMapping

ACCOUNT = "111122223333"
TARGET = 2.0


class _Static:
    def __init__(self, name: str, mappings: MappingSet) -> None:
        self.name = name
        self._mappings = mappings

    def snapshot(self) -> MappingSet:
        return self._mappings

    @property
    def ready(self) -> bool:
        return True


class _UserIdSource(_Static):
    """A source with the lookup protocol (as DynamicFile in userid strict mode), matching nothing."""

    def lookup(self, identity: Identity) -> None:
        return None


def _chain(entries: int) -> MappingChain:
    half = entries // 2
    roles = [RoleMapping(username=f"r{i}:{{{{SessionName}}}}", groups=("g",), rolearn=_role(i)) for i in range(half)]
    roles.append(RoleMapping(username="sso", groups=(), sso=SSOMatcher("Admin", ACCOUNT)))
    users = [UserMapping(userarn=_user(i), username=f"u{i}", groups=("g",)) for i in range(entries - half)]
    mounted = _Static("MountedFile", MappingSet(roles=tuple(roles), users=tuple(users)))
    fallback = _Static("EKSConfigMap", MappingSet(accounts=("444455556666",)))
    return MappingChain([_UserIdSource("DynamicFile", MappingSet()), mounted, fallback])


def _role(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/role-{i:06d}"


def _user(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/user-{i:06d}"


def _identities(entries: int, count: int) -> list[Identity]:
    half = entries // 2
    out: list[Identity] = []
    for n in range(count):
        i = (n * 7919) % half  # spread over the whole table
        if n % 3 == 0:
            arn, canonical, session = f"arn:aws:sts::{ACCOUNT}:assumed-role/role-{i:06d}/s", _role(i), "s"
        elif n % 3 == 1:
            arn = canonical = _user(i)
            session = ""
        else:  # no entry: every source is asked, the last one's mapAccounts answers
            arn = canonical = f"arn:aws:iam::444455556666:user/nobody-{i}"
            session = ""
        account = canonical.split(":")[4]
        out.append(Identity(arn, canonical, account, "AIDAEXAMPLE", session, "AKIAEXAMPLE", "sts.amazonaws.com"))
    return out


def _time_batch(chain: MappingChain, identities: list[Identity]) -> float:
    resolve = chain.resolve
    started = time.perf_counter()
    for identity in identities:
        resolve(identity)
    return (time.perf_counter() - started) / len(identities)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=201, help="batches per chain (median taken)")
    parser.add_argument("--batch", type=int, default=3000, help="lookups per batch")
    args = parser.parse_args()

    big, small = 100_000, 10
    chains = {big: _chain(big), small: _chain(small)}
    identities = {n: _identities(n, args.batch) for n in chains}
    for n, chain in chains.items():  # warm-up: builds each source's index once (per snapshot)
        expected = chain.resolve(identities[n][0])
        assert expected is not None and expected.username.startswith("r"), expected
        _time_batch(chain, identities[n])
    samples: dict[int, list[float]] = {big: [], small: []}
    for _ in range(args.runs):
        for n in (big, small):
            samples[n].append(_time_batch(chains[n], identities[n]))
    value = statistics.median(samples[big])
    anchor = statistics.median(samples[small])
    ratio = value / anchor
    passed = ratio <= TARGET
    print(f"{'id':<4} {'what':<44} {'value':>10} {'anchor':>10} {'ratio':>7} {'target':>7}  result")
    print(
        f"{'S5':<4} {'MappingChain.resolve, 100,000 vs 10 entries':<44} {value * 1e9:>8.0f}ns {anchor * 1e9:>8.0f}ns "
        f"{ratio:>6.2f}x {'<=' + str(TARGET) + 'x':>7}  {'pass' if passed else 'FAIL'}"
    )
    print(f"     median of {args.runs} batches of {args.batch} lookups each, round-robin", file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
