"""``python -m bot.cli``: the `maslahat` command."""

import sys

from bot.cli.main import main

sys.exit(main())
