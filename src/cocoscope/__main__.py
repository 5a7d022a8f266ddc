import sys

from cocoscope.cli import main

sys.exit(main())
