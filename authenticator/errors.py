"""The base of every error a user can cause, and so fix.

A command handler catches ``UserError`` and nothing broader: it prints the message on one line
of stderr and exits 1 (docs/cli.md). Anything else is a bug of ours and ends with a traceback, so a
bug is never passed off as a mistake in the user's configuration, files or flags.

Not every exception of the project is one: a verdict on a token or an identity (a rejected
token, an unmapped identity, a denied template) is the expected answer of a review, handled
where it arises, and the private exceptions of a module are its own control flow.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """An error the user can fix (a configuration, a file, a flag, the cluster it names); its
    message is one line for stderr."""
