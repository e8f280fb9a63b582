"""Entry keys fold as Go's encoding/json folds them: _fold_keys (sorted once, translate() only on
non-ASCII text) gives the answers of the plain reading of the rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from authenticator.mapping.entries import _GO_EXTRA_FOLDS, ROLE_KEYS, _fold_keys, _key_text

KEY_TEXTS = ["rolearn", "RoleArn", "roleARN", "u\u017fername", "username", "userName", "groups", "\u212aey", "sso", "x"]


def _reference_fold_keys(
    item: dict[object, object], known: tuple[str, ...]
) -> tuple[dict[str, object], dict[str, str], tuple[str, ...]]:
    """_fold_keys as first written: sorted() over every key's text, translate() on every key."""
    fields: dict[str, object] = {}
    spellings: dict[str, str] = {}
    unknown: list[str] = []
    for text, value in sorted(((_key_text(k), v) for k, v in item.items()), key=lambda kv: kv[0]):
        lower = text.translate(_GO_EXTRA_FOLDS).lower()
        if lower in known:
            fields[lower] = value
            spellings[lower] = text
        else:
            unknown.append(text)
    return fields, spellings, tuple(unknown)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(KEY_TEXTS), st.text(max_size=6), st.booleans(), st.none(), st.integers(-3, 3)),
        st.integers(),
        max_size=6,
    )
)
def test_fold_keys_matches_the_reference(item: dict[object, object]) -> None:
    assert _fold_keys(item, ROLE_KEYS) == _reference_fold_keys(item, ROLE_KEYS)


def test_fold_keys_folds_long_s_and_kelvin() -> None:
    fields, spellings, unknown = _fold_keys({"u\u017fername": "a", "\u212aey": 1}, ROLE_KEYS)
    assert fields == {"username": "a"} and spellings == {"username": "u\u017fername"} and unknown == ("\u212aey",)
