"""The documentation matches the binary: each docs/commands/COMMAND.md holds `ptexport COMMAND --help`
verbatim, docs/cli.md holds `ptexport --help`, and the README names every command with its usage.

    python3 tests/e2e/test_cli_docs.py            check (ctest runs this)
    python3 tests/e2e/test_cli_docs.py --update   rewrite the help blocks from the built binary
"""
from __future__ import annotations

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_common import SOURCE, describe, run  # noqa: E402

COMMANDS = ["export", "check", "inspect", "run", "verify"]
BLOCK = re.compile(r"(## `(ptexport(?: \w+)? --help)`\n\n```\n)(.*?)(```\n)", re.S)


def pages():
    """(path, command args) of every documentation page with a help block."""
    yield os.path.join(SOURCE, "docs", "cli.md"), []
    for c in COMMANDS:
        yield os.path.join(SOURCE, "docs", "commands", f"{c}.md"), [c]


def help_text(args):
    r = run(*args, "--help")
    assert r.returncode == 0, describe(r)
    return r.stdout


class DocsMatchHelp(unittest.TestCase):
    def test_each_page_holds_the_help_verbatim(self):
        for path, args in pages():
            with self.subTest(page=os.path.relpath(path, SOURCE)):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                blocks = BLOCK.findall(text)
                self.assertEqual(len(blocks), 1, f"{path}: expected one '## `ptexport ... --help`' block")
                self.assertEqual(blocks[0][1], " ".join(["ptexport", *args, "--help"]))
                self.assertEqual(blocks[0][2], help_text(args),
                                 f"{path} differs from --help: run python3 tests/e2e/test_cli_docs.py --update")

    def test_readme_names_every_command(self):
        with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        for c in COMMANDS:
            usage = [line for line in help_text([c]).splitlines() if line.startswith("Usage: ")][0]
            # "Usage: ptexport run ARTIFACT.pt2 INPUTS [OPTIONS]" -> "ptexport run ARTIFACT.pt2 INPUTS"
            synopsis = usage[len("Usage: "):].replace(" [OPTIONS]", "")
            self.assertIn(synopsis, readme, f"README.md does not show `{synopsis}`")
            self.assertIn(f"docs/commands/{c}.md", readme)


def update():
    for path, args in pages():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = BLOCK.sub(lambda m: m.group(1) + help_text(args) + m.group(4), text)
        if new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print("updated", os.path.relpath(path, SOURCE))


if __name__ == "__main__":
    if "--update" in sys.argv:
        update()
    else:
        unittest.main(verbosity=2)
