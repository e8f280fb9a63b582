"""Prometheus metrics, with the reference's names (namespace aws_iam_authenticator).

Defined once here so that the STS client, the mapping sources and the server all
count into the same collectors.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "aws_iam_authenticator"

# Values of the `result` label of authenticate_latency_seconds.
MALFORMED_REQUEST = "malformed_request"
INVALID_TOKEN = "invalid_token"
STS_ERROR = "sts_error"
STS_THROTTLING = "sts_throttling"
# The reference's own spelling (pkg/metrics: Unknown = "uknown_user"), kept so that its dashboards
# and alerts work unchanged.
UNKNOWN_USER = "uknown_user"
SUCCESS = "success"

authenticate_latency = Histogram(
    "authenticate_latency_seconds",
    "Latency of /authenticate, by result.",
    ["result"],
    namespace=NAMESPACE,
)
sts_connection_failures = Counter(
    "sts_connection_failures",
    "STS calls that failed before an answer (transport errors, timeouts).",
    ["StsRegion"],
    namespace=NAMESPACE,
)
sts_responses = Counter(
    "sts_responses",
    "STS answers by HTTP status code.",
    ["ResponseCode", "StsRegion"],
    namespace=NAMESPACE,
)
sts_throttling = Counter(
    "sts_throttling",
    "STS answers that said the caller was throttled.",
    ["StsRegion"],
    namespace=NAMESPACE,
)
configmap_watch_failures = Counter(
    "configmap_watch_failures",
    "Failed or ended watches of the aws-auth ConfigMap.",
    namespace=NAMESPACE,
)
dynamicfile_failures = Counter(
    "dynamicfile_failures",
    "Reloads of the DynamicFile source that failed.",
    namespace=NAMESPACE,
)
ec2_describe_instances_calls = Counter(
    "ec2_describe_instances_calls",
    "DescribeInstances calls made to resolve {{EC2PrivateDNSName}}.",
    namespace=NAMESPACE,
)

dynamic_e2e_latency = Histogram(
    "dynamic_e2e_latency_seconds",
    "Seconds from a dynamic file's LastUpdatedDateTime to its load, by type (dynamic_file, dynamic_backend_mode).",
    ["type"],
    namespace=NAMESPACE,
    buckets=(1, 3, 5, 10, 15, 20, 30, 60),
)
# Values of the `type` label of dynamic_e2e_latency_seconds.
DYNAMIC_FILE = "dynamic_file"
DYNAMIC_BACKEND_MODE = "dynamic_backend_mode"
dynamic_file_enabled = Gauge(
    "dynamic_file_enabled",
    "1 while the backend modes read from server.dynamicBackendModePath include DynamicFile.",
    namespace=NAMESPACE,
)
dynamic_file_only = Gauge(
    "dynamic_file_only",
    "1 while the backend modes read from server.dynamicBackendModePath are DynamicFile alone.",
    namespace=NAMESPACE,
)

# The StsRegion label of a call to the global endpoint sts.amazonaws.com, as the reference labels it.
GLOBAL_STS_REGION = "global"

# Ours, beside the reference's.
mapping_section_failures = Counter(
    "mapping_section_failures",
    "aws-auth sections that failed to parse; the last good value was kept.",
    ["source", "section"],
    namespace=NAMESPACE,
)
crd_watch_failures = Counter(
    "crd_watch_failures",
    "Failed lists or watches of the IAMIdentityMapping objects (the CRD source).",
    namespace=NAMESPACE,
)
certificate_expiry = Gauge(
    "certificate_expiry_timestamp_seconds",
    "Expiry (notAfter) of the webhook's TLS certificate, in Unix seconds.",
    namespace=NAMESPACE,
)
mapping_source_loaded = Gauge(
    "mapping_source_loaded",
    "1 once a mapping source has loaded at least once.",
    ["source"],
    namespace=NAMESPACE,
)

# Reliability: the verification cache and the bound on STS calls in flight.
verification_cache_hits = Counter(
    "verification_cache_hits",
    "Reviews whose token was already verified (identity reused, STS not called).",
    namespace=NAMESPACE,
)
verification_cache_misses = Counter(
    "verification_cache_misses",
    "Reviews that started an STS call.",
    namespace=NAMESPACE,
)
verification_coalesced = Counter(
    "verification_coalesced",
    "Reviews that shared the STS call already in flight for the same token.",
    namespace=NAMESPACE,
)
verification_cache_entries = Gauge(
    "verification_cache_entries",
    "Verified identities held by the cache.",
    namespace=NAMESPACE,
)
sts_in_flight = Gauge(
    "sts_in_flight",
    "STS calls in flight.",
    namespace=NAMESPACE,
)
sts_in_flight_limit_rejections = Counter(
    "sts_in_flight_limit_rejections",
    "Reviews answered 429 because no STS call slot freed up in time (server.stsMaxInFlight).",
    namespace=NAMESPACE,
)

# The aws-auth guard (docs/admission.md): `result` is allowed, warned, denied or malformed.
admission_reviews = Counter(
    "admission_reviews",
    "AdmissionReviews answered by the aws-auth guard (/validate/aws-auth), by result.",
    ["result"],
    namespace=NAMESPACE,
)
