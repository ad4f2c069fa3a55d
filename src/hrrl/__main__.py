import sys

from hrrl.cli import main

sys.exit(main())
