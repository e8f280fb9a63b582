"""Test support: the one package of identities, tokens, peers and doubles the tests and bench/ share.

Imported by its full name, ``tests.support.<module>``, from the repository root: pytest puts the
root on ``sys.path`` (pyproject's ``pythonpath = ["."]``), and the benchmarks run as modules from
the root (``python -m bench.server``), which puts it there too. Nothing edits ``sys.path``.
Test directories stay plain directories (only ``tests/`` and ``tests/lint/`` are packages), so
pytest's default import mode names their modules by file name, as before.

Modules, one job each:

- ``identities``: ``Identity`` values as the verifier builds them (role session, IAM user).
- ``tokens``: the stdlib presigner and the tables of malformed tokens (docs/token.md), tokens for
  stand-ins (``mint_token``) and doubles (``make_token``), and botocore-signed tokens for moto.
- ``sts``: doubles at the three STS seams: a recording HTTP handler (the wire, proxies),
  ``RecordingTransport`` (``STSTransport.get``), ``FakeSTS`` (the STS client).
- ``sts_standin``: the fast HTTPS GetCallerIdentity stand-in that fails as a network does; also a
  process (``python -m tests.support.sts_standin``) for the benchmarks.
- ``mapping``: ``FakeMapper``, a double of the mapping chain.
- ``aws_auth``: aws-auth ConfigMap text around a data snippet.
- ``kube_apiserver``: a kube-apiserver that stores ConfigMaps and IAMIdentityMappings and serves
  list and watch (the cluster sources' peer).
- ``processes``: the real ``server`` as a child process (``ServerProcess``, ``Webhook``).
- ``plugin``: the installed plugin command, a clean environment, token decoding, moto for AssumeRole.
- ``e2e``: moto as STS and the real server mapping its identities (the end-to-end cluster).
- ``deploy``: the image's install steps and the deploy manifests, replayed.
- ``eks_standin``: the EKS API over HTTP for botocore: access entries and the authentication mode
  served by the rules of the API, moto's EKS for clusters, node groups and Fargate profiles.

The honest peers are the demo's own, used as they are: ``authenticator.demo.sts_peer.StsPeer``
(moto checking presigned signatures as STS does) and ``authenticator.demo.apiserver.ApiServerStandIn``
(kube-apiserver's authentication path, through the webhook or through a test's own check).
"""
