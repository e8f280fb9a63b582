from authenticator.cli import main

raise SystemExit(main())
