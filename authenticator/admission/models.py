"""AdmissionReview (``admission.k8s.io/v1``), as the API server sends and reads it.

Only what the guard reads is modelled; unknown fields are ignored, as the API server's own
decoder does. The objects stay plain JSON (``dict``): the guard reads a ConfigMap's
``metadata`` and ``data`` and nothing else.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "API_VERSION",
    "AdmissionRequest",
    "AdmissionResponse",
    "AdmissionReview",
    "AdmissionReviewResponse",
    "AdmissionStatus",
    "GroupVersionKind",
    "RequestUser",
]

API_VERSION: Literal["admission.k8s.io/v1"] = "admission.k8s.io/v1"


class _Wire(BaseModel):
    # strict: a number where a string belongs is not an AdmissionReview (no silent coercion)
    model_config = ConfigDict(extra="ignore", strict=True)


class GroupVersionKind(_Wire):
    group: str = ""
    version: str = ""
    kind: str = ""


class RequestUser(_Wire):
    username: str = ""
    uid: str = ""
    groups: list[str] | None = None
    # What the authenticator put there; ours (TokenReview): arn, canonicalArn, sessionName, ...
    extra: dict[str, list[str]] | None = None


class AdmissionRequest(_Wire):
    uid: str = Field(min_length=1)
    kind: GroupVersionKind
    namespace: str | None = None
    name: str | None = None
    operation: str
    userInfo: RequestUser = Field(default_factory=RequestUser)
    object: dict[str, Any] | None = None
    oldObject: dict[str, Any] | None = None
    dryRun: bool | None = None


class AdmissionReview(_Wire):
    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


class AdmissionStatus(BaseModel):
    code: int
    message: str
    reason: str | None = None


class AdmissionResponse(BaseModel):
    uid: str
    allowed: bool
    status: AdmissionStatus | None = None
    warnings: list[str] | None = None


class AdmissionReviewResponse(BaseModel):
    apiVersion: Literal["admission.k8s.io/v1"] = API_VERSION
    kind: Literal["AdmissionReview"] = "AdmissionReview"
    response: AdmissionResponse

    def wire_json(self) -> bytes:
        """The JSON body, compact; absent fields are left out rather than sent as null."""
        return self.model_dump_json(exclude_none=True).encode()
