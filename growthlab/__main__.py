from growthlab.cli import main

raise SystemExit(main())
