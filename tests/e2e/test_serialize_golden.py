#!/usr/bin/env python3
"""The golden JSON of tests/serialize/pt2_test.cpp is what this environment's torch.export.save
writes (tests/serialize/golden/make_golden.py --check)."""
import os
import subprocess
import sys

src = os.environ.get("PTX_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
golden = os.path.join(src, "tests", "serialize", "golden")
sys.exit(subprocess.call([sys.executable, os.path.join(golden, "make_golden.py"), "--check", golden]))
