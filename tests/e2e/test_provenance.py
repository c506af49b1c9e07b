#!/usr/bin/env python3
"""Where a guard comes from (issue 18): each guard and runtime assert in the report names the IR node
that its op made, and the artifact's runtime assertion carries the whole call chain that leads to
the op, as torch.export's stack traces do.

The model (cli_models "nested_view") calls a submodule whose `x.view(-1, 4)` needs x.size(0) % 4 == 0;
x.0 is Dim.DYNAMIC, so the guard is kept as a runtime assert. The checks:
- the report's guard and runtime assert name a node of the artifact that torch.export.load reads, and
  that node is the view (aten.view.default);
- the assertion nodes' stack_trace in the artifact has both frames, outermost first: the caller's
  call of the block and the submodule's view, in torch's
  `File "...", line N, in forward` form, and the view node's own stack trace ends with the same frame;
- the artifact refuses a size the assert rules out and runs one it allows (torch.export.load).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_models  # noqa: E402
from cli_common import describe, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_provenance_")


class Provenance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = cli_models.make("nested_view", TMP)
        cls.model, cls.inputs = os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")
        cls.out = os.path.join(TMP, "nested_view.pt2")
        r = run("export", cls.model, cls.inputs, "-o", cls.out, "--json")
        assert r.returncode == 0, describe(r)
        cls.report = json.loads(r.stdout)
        import torch
        cls.ep = torch.export.load(cls.out)
        cls.nodes = {n.name: n for n in cls.ep.graph.nodes}

    def test_guards_name_the_view_node(self):
        constraints = self.report["constraints"]
        asserts = constraints["runtime_asserts"]
        self.assertEqual(len(asserts), 1, asserts)
        guards = [g for s in constraints["symbols"] for g in s["guards"]] + asserts
        for g in guards:
            self.assertEqual(g["op"], "aten::view")
            self.assertIn(g["node"], self.nodes, f"{g['node']!r} is not a node of the artifact")
            self.assertEqual(str(self.nodes[g["node"]].target), "aten.view.default")

    def test_assert_stack_trace_is_the_call_chain(self):
        checks = [n for n in self.ep.graph.nodes if n.op == "call_function" and "assert_scalar" in str(n.target)]
        self.assertEqual(len(checks), 1)
        trace = checks[0].meta.get("stack_trace", "")
        lines = trace.splitlines()
        self.assertEqual(len(lines), 4, trace)
        self.assertRegex(lines[0], r'^File ".*cli_models\.py", line \d+, in forward$')
        # The lines' text is the archive's own code for them (TorchScript's `y = (block).forward(x, )`,
        # `return torch.view(x, [-1, 4])`), at the Python file and line they were compiled from.
        self.assertIn("block", lines[1])
        self.assertRegex(lines[2], r'^File ".*cli_models\.py", line \d+, in forward$')
        self.assertRegex(lines[3].strip(), r"^return .*view\(x, \[-1, 4\]\)$")
        self.assertNotEqual(lines[0], lines[2])
        view = next(n for n in self.ep.graph.nodes if str(n.target) == "aten.view.default")
        self.assertTrue(view.meta.get("stack_trace", "").endswith(lines[2] + "\n" + lines[3]),
                        view.meta.get("stack_trace"))

    def test_artifact_checks_the_assert(self):
        import torch
        m = self.ep.module()
        self.assertTrue(torch.equal(m(torch.arange(12.0)), torch.arange(12.0).view(-1, 4) * 2))
        with self.assertRaisesRegex(Exception, r"Mod\(s\d+, 4\)|s\d+ % 4"):
            m(torch.arange(10.0))


if __name__ == "__main__":
    unittest.main()
