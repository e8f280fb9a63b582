"""A review flow through the real server process (JSON logs at debug level) with moto as STS
(signatures checked): allowed user, allowed role session (with a session token), unmapped role,
broken signature, another cluster's token, an expired one, garbage, a throttled STS, then SIGTERM.
Nothing it wrote may hold a token, a presigned URL, a signature, a secret key or a session token."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from authenticator.demo.sts_peer import StsPeer
from tests.support import tokens as tc
from tests.support.processes import Webhook, config_text
from tests.support.tokens import mint_token


def _bad_signature(token: str) -> str:
    """The same token with the signature's last hex digit changed (still well formed)."""
    url = tc.decode(token)
    return tc.encode(url[:-1] + ("0" if url[-1] != "0" else "1"))


def test_no_secret_reaches_the_output(tmp_path: Path) -> None:
    with StsPeer() as peer:
        peer.reset()
        alice = peer.create_user("alice")
        role = peer.create_role("deployer")
        unmapped = peer.create_role("nobody")
        session = peer.assume_role(alice, role, "ci-job-42")
        other = peer.assume_role(alice, unmapped, "stray")
        config = tmp_path / "config.yaml"
        config.write_text(
            config_text(peer.url, peer.ca_path, alice.arn, stsTimeout=5)
            + f"  mapRoles: [{{rolearn: '{role}', username: 'deployer:{{{{SessionName}}}}', groups: [ci]}}]\n"
        )

        def token(creds: object, **kw: object) -> str:
            return mint_token(
                access_key_id=creds.access_key_id,  # type: ignore[attr-defined]
                secret_access_key=creds.secret_access_key,  # type: ignore[attr-defined]
                session_token=getattr(creds, "session_token", None),
                **kw,  # type: ignore[arg-type]
            )

        tokens = {
            "alice": token(alice),
            "role": token(session),
            "unmapped": token(other),
            "cluster": token(session, cluster_id="another-cluster"),
            "expired": token(session, now=datetime.now(UTC) - timedelta(minutes=20)),
        }
        tokens["badsig"] = _bad_signature(tokens["role"])
        with Webhook(config, tmp_path / "state", verbosity="debug") as webhook:
            expected = {"alice": 200, "role": 200, "unmapped": 403, "cluster": 403, "expired": 403, "badsig": 403}
            for name, status in expected.items():
                for _ in range(2):  # the second of each is a cache hit or a repeated failure
                    assert webhook.review(tokens[name]).status_code == status, name
            assert webhook.review("k8s-aws-v1.garbage-" + tokens["role"][-40:]).status_code == 403
            peer.inject_error(400, "Throttling", "Rate exceeded")
            # Signed a second later than "role": the same second would make the very same token, a cache hit.
            throttled = token(session, now=datetime.now(UTC) + timedelta(seconds=1))
            tokens["throttled"] = throttled
            assert webhook.review(throttled).status_code == 429
            assert webhook.terminate() == 0
            output = webhook.output()

    # the flow was logged: every kind of outcome has its line
    results = {json.loads(line).get("result") for line in output.splitlines()}
    assert {"success", "uknown_user", "sts_error", "invalid_token", "sts_throttling"} <= results, results
    assert "SignatureDoesNotMatch" in output  # the broken signature and the other cluster's token reached moto
    forbidden = {"X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Credential", "Action=GetCallerIdentity"}
    for value in tokens.values():
        url = tc.decode(value)
        forbidden.add(value)
        forbidden.add(value[len("k8s-aws-v1.") :][:40])
        forbidden.add(url)
        forbidden.update(re.findall(r"X-Amz-Signature=([0-9a-f]{64})", url))
    for creds in (alice, session, other):
        forbidden.add(creds.secret_access_key)
    for creds in (session, other):
        assert creds.session_token
        forbidden.update({creds.session_token, quote(creds.session_token, safe="-_.~"), creds.session_token[:24]})
    leaked = sorted(s[:12] + "..." for s in forbidden if s and s in output)
    assert not leaked, leaked
