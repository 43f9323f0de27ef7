from abm.cli import main

raise SystemExit(main())
