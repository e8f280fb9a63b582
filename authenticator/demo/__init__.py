"""The local demo and the real peers the end-to-end tests run against.

- `sts_peer.StsPeer`: moto as STS (and IAM) over HTTPS, with the presigned-URL checks real STS makes.
- `apiserver.ApiServerStandIn`: an HTTPS kube-apiserver stand-in that authenticates bearer tokens
  through the webhook, as kube-apiserver does with `--authentication-token-webhook-config-file`.

These need the `[demo]` extra (moto, boto3, flask, flask-cors, trustme).
"""
