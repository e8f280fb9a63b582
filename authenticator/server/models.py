"""TokenReview, as the API server sends and reads it (authentication.k8s.io v1 and v1beta1).

Both versions have the same shape for what we use; the answer echoes the request's
``apiVersion`` and ``kind`` (docs/mapping.md §5). Unknown fields in a request are ignored, as
the API server's own decoder does.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "API_VERSIONS",
    "TokenReviewRequest",
    "TokenReviewResponse",
    "TokenReviewSpec",
    "TokenReviewStatus",
    "UserInfo",
]

V1 = "authentication.k8s.io/v1"
V1BETA1 = "authentication.k8s.io/v1beta1"
API_VERSIONS = (V1, V1BETA1)
ApiVersion = Literal["authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"]


class _Strict(BaseModel):
    # strict: a number where a string belongs is not a TokenReview (no silent coercion)
    model_config = ConfigDict(extra="ignore", strict=True)


class TokenReviewSpec(_Strict):
    token: str
    audiences: list[str] | None = None


class TokenReviewRequest(_Strict):
    apiVersion: ApiVersion
    kind: Literal["TokenReview"]
    metadata: dict[str, Any] | None = None
    spec: TokenReviewSpec


class UserInfo(BaseModel):
    username: str
    uid: str
    groups: list[str] = Field(default_factory=list)
    extra: dict[str, list[str]] | None = None


class TokenReviewStatus(BaseModel):
    authenticated: bool
    user: UserInfo | None = None
    error: str | None = None
    # Never set by us: an aws-iam token is bound to the cluster id, not to audiences, and
    # the API server falls back to its own audiences when this is empty.
    audiences: list[str] | None = None


class TokenReviewResponse(BaseModel):
    apiVersion: ApiVersion
    kind: Literal["TokenReview"] = "TokenReview"
    status: TokenReviewStatus

    def wire_json(self) -> bytes:
        """The JSON body, compact; absent fields are left out rather than sent as null."""
        return self.model_dump_json(exclude_none=True).encode()
