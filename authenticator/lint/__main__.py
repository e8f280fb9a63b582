"""``python -m authenticator.lint`` is ``aws-auth``."""

from authenticator.lint.cli import main

raise SystemExit(main())
