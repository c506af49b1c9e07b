// shapes/shape_env.h: the symbols of one export, their ranges and sample values (hints), and the
// guards that tracing the model on the sample required, each with its provenance.
//
// The frontend asks questions about symbolic sizes ("is s0 == 1?"). ShapeEnv answers them from
// the hints, the way torch's ShapeEnv does while tracing, and records the answer as a guard unless
// it holds for every value the symbols' ranges allow. The constraint checker (shapes/checker.h)
// later decides, with Z3, whether the user's spec implies every recorded guard.
//
// Note [Equal samples]: two symbols whose hints are equal are never assumed equal; only a guard
// (e.g. from broadcasting) can relate them.
#pragma once

#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "shapes/sym.h"

namespace ptx::shapes {

/// An inclusive range of integers; no max means unbounded above (torch's int_oo), a min of
/// kNoMin unbounded below (-int_oo: only values read from tensors, such as item()).
struct Range {
  static constexpr int64_t kNoMin = INT64_MIN;
  int64_t min = 0;
  std::optional<int64_t> max;
  bool contains(int64_t v) const { return v >= min && (!max || v <= *max); }
  std::string str() const;  // "[2, 1024]", "[0, int_oo]", "[-int_oo, int_oo]"
};

/// One line of the model's code on the way to an op: the file, the line, the function it is in
/// and the line's text.
struct SourceFrame {
  std::string file;      // "model.py"
  int line = 0;
  std::string function;  // "forward"
  std::string code;      // the line's text, trimmed (may be empty)
  bool operator==(const SourceFrame&) const = default;
};

/// Why a guard exists: the op that needed it, the IR node made for that op, the model's source
/// location (printed, and as the call chain), a reason.
struct Provenance {
  std::string op;        // "aten::view"
  std::string node;      // IR node name, "view_3"; empty when the op made no node (a size compared in
                         // the model's own code is decided while tracing)
  std::string source;    // "model.py:41", the op's own line as printed (may be empty)
  std::string code;      // that line's text (may be empty)
  std::string reason;    // "element counts must match"
  /// The call chain: the method's line first, each call into a submodule or function after it,
  /// the op's own line (`source`, `code`) last. Empty when the model has no source.
  std::vector<SourceFrame> stack = {};
  std::string str() const;  // "aten::view at model.py:41 (element counts must match)"
  /// torch's node.meta["stack_trace"] form: "File \"model.py\", line 41, in forward\n    code", a
  /// frame per line, outermost first; empty without a stack.
  std::string stack_trace() const;
};

struct Guard {
  SymBool cond;
  Provenance origin;
  /// A check's own message (a TorchScript `assert c, "k too large"`): the runtime assertion's
  /// message ends with it. Empty for guards.
  std::string message = {};
};

/// How the user marked a dimension (torch's Dim / Dim.DYNAMIC / Dim.AUTO).
enum class DimHint : uint8_t {
  kNamed,    // a named Dim with a range: any guard that restricts it is a violation
  kDynamic,  // Dim.DYNAMIC: ranges are refined freely, but specialization to a constant is an error
  kAuto,     // Dim.AUTO: anything goes, specialization is reported, not an error
};

struct SymbolInfo {
  SymExpr sym;                       // the symbol (s0, s1, ...)
  std::string user_name;             // "batch"; for hints, the first source ("x.size()[0]")
  int64_t hint = 0;                  // the sample value
  Range requested;                   // what the user asked for
  DimHint kind = DimHint::kNamed;
  std::vector<std::string> sources;  // every input dim bound to it: "x.size()[0]", "y.size()[0]"
};

/// A value read from tensor data, torch's unbacked SymInt (u0, u1, ...): item() of a data tensor,
/// the row count of nonzero, the length of masked_select... Its range is what the op allows
/// (nonzero's count in [0, numel]) refined by checks (torch._check). Its hint is the sample's value
/// (torch has none; ptexport runs the sample): it computes sample sizes and the draft decisions,
/// never decides a guard.
struct UnbackedInfo {
  SymExpr sym;
  int64_t hint = 0;
  Range range;
  Provenance origin;  // the op that read it
  std::string what;   // "the row count of nonzero"
};

/// A condition on unbacked symbols that their ranges and the checks do not decide (torch's
/// GuardOnDataDependentSymNode). Under --draft it is decided on the sample and kept as a runtime
/// assertion; otherwise the first one stops the export (exit 4).
struct DataDependentProblem {
  SymBool cond;     // as asked ("u0 > 3")
  bool taken;       // its value on the sample
  Provenance where;
  std::string message;  // the full error text, with the fixes torch would suggest
};

class ShapeEnv {
 public:
  /// A new symbol named s<N>, N counting this env's symbols from 0. `source` is "x.size()[0]".
  SymExpr create_symbol(const std::string& user_name, int64_t hint, Range requested, DimHint kind,
                        const std::string& source);
  /// Records another input dimension bound to an existing symbol (for messages).
  void add_source(SymExpr sym, const std::string& source);

  const std::vector<SymbolInfo>& symbols() const { return symbols_; }
  const SymbolInfo* find_symbol(SymExpr sym) const;
  const SymbolInfo* find_symbol(const std::string& user_name) const;

  /// The sample values of all symbols.
  const Assignment& hints() const { return hints_; }
  /// The value of `e` on the sample. InternalError if `e` has a symbol this env does not know.
  int64_t hint_of(SymExpr e) const;

  /// Decides `cond` on the sample and returns that value. Unless the answer holds for every value
  /// allowed by the ranges (cheap reasoning, no Z3 here), records the guard `cond` or its negation.
  bool guard_bool(const SymBool& cond, const Provenance& why);
  /// Specializes `e` to its sample value, recording Eq(e, value) unless `e` is already constant.
  int64_t guard_int(SymExpr e, const Provenance& why);
  /// True when `cond` holds for every value the ranges allow, by cheap reasoning (no guard).
  bool statically_true(const SymBool& cond) const;
  /// Records a guard directly (deduplicated).
  void add_guard(const SymBool& cond, const Provenance& why);

  const std::vector<Guard>& guards() const { return guards_; }

  /// Names the IR node made for `op` (a TorchScript node kind, "aten::view") in the provenance of
  /// the guards, checks, unbacked symbols and decisions that `op` recorded since the previous call;
  /// what other ops recorded in between (ops that made no node) keeps an empty node.
  void name_node(const std::string& op, const std::string& node);

  /// The range assumed while tracing: the requested range (torch assumes >= 2 only for
  /// unbounded Dim.DYNAMIC/AUTO dims; we assume exactly what the user said); an unbacked
  /// symbol's range as refined by checks.
  Range range_of(SymExpr sym) const;

  // ---- data-dependent values (shapes/unbacked.cpp) ----------------------------------------------
  /// A new unbacked symbol u<N> (N counting this env's unbacked symbols from 0).
  SymExpr create_unbacked(int64_t hint, Range range, const Provenance& origin, const std::string& what);
  const std::vector<UnbackedInfo>& unbacked() const { return unbacked_; }
  const UnbackedInfo* find_unbacked(SymExpr sym) const;
  bool has_unbacked(SymExpr e) const;
  bool has_unbacked(const SymBool& c) const;
  /// torch._check(cond) / a TorchScript `assert cond`: a fact from here on. It must hold on the
  /// sample (else UserError E_CHECK_FAILED). On backed symbols only it is a guard (the checker
  /// decides it); on unbacked ones it refines their ranges (u0 >= 2) or is kept as a relation, and
  /// is checked when the program runs.
  void check(const SymBool& cond, const Provenance& why, const std::string& message = "");
  /// Conditions the artifact checks when it runs (after the op that makes their last unbacked
  /// symbol): each unbacked symbol's range, the relations checked, the draft decisions.
  std::vector<Guard> deferred_asserts() const;
  /// --draft (torch's draft_export): a data-dependent condition is decided on the sample and kept
  /// as a runtime assertion instead of stopping the export.
  void set_draft(bool on) { draft_ = on; }
  bool draft() const { return draft_; }
  const std::vector<DataDependentProblem>& data_dependent_problems() const { return problems_; }
  /// True when `cond` reads unbacked symbols that neither the ranges nor the checks decide: guard_bool
  /// would stop the export (or under --draft take the sample's answer).
  bool undecided_on_data(const SymBool& cond) const;

 private:
  /// guard_bool for a condition with unbacked symbols.
  bool guard_unbacked(const SymBool& cond, bool value, const Provenance& why);
  /// Whether the checks recorded decide `cond` (nullopt: they do not).
  std::optional<bool> decided_by_checks(const SymBool& cond) const;
  std::string data_dependent_message(const SymBool& cond, const Provenance& why) const;
  /// What the unbacked symbols of `cond` are ("u0 is the value of n.item() at m.py:4, range [..]"),
  /// symbols of the same description together.
  std::string describe_unbacked(const SymBool& cond) const;

  std::vector<UnbackedInfo> unbacked_;
  std::vector<Guard> relations_;  // checks on unbacked symbols that are not a range bound
  std::vector<Guard> decisions_;  // draft decisions
  std::vector<DataDependentProblem> problems_;
  bool draft_ = false;

  std::vector<SymbolInfo> symbols_;
  Assignment hints_;
  std::vector<Guard> guards_;
  std::unordered_map<size_t, std::vector<size_t>> guard_index_;  // hash of cond -> guards_ indices
  // name_node: how many of guards_, unbacked_, relations_, decisions_, problems_ it has seen.
  std::array<size_t, 5> named_ = {};
};

}  // namespace ptx::shapes
