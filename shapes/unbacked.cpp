// shapes/unbacked.cpp: values read from tensor data (unbacked symbols), checks on them and
// data-dependent decisions. See shape_env.h (UnbackedInfo, DataDependentProblem).
//
// Note [Unbacked symbols]
// ~~~~~~~~~~~~~~~~~~~~~~~
// torch.export gives a size or int that depends on tensor values (nonzero's row count, item()) a
// fresh symbol u<N> with no hint and a range from the op; a branch on it that the range and the
// checks (torch._check) do not decide is an error (GuardOnDataDependentSymNode) suggesting a check.
// ptexport does the same, with two differences: the symbol has the sample's value as a hint (the
// sample runs for real), used to compute sample sizes and, under --draft, to take the decision
// torch would refuse (kept as a runtime assertion, so the artifact fails loudly where the sample's
// decision does not hold); and a decided guard is never recorded for the checker: the user's dims
// do not constrain data.
#include <algorithm>

#include "shapes/error.h"
#include "shapes/interval.h"
#include "shapes/shape_env.h"

namespace ptx::shapes {

SymExpr ShapeEnv::create_unbacked(int64_t hint, Range range, const Provenance& origin, const std::string& what) {
  PTX_INTERNAL_CHECK(range.contains(hint)) << "unbacked value " << what << " = " << hint << " outside its range "
                                           << range.str();
  SymExpr sym = SymExpr::new_symbol("u" + std::to_string(unbacked_.size()));
  unbacked_.push_back(UnbackedInfo{sym, hint, range, origin, what});
  hints_[sym.symbol_id()] = hint;
  return sym;
}

const UnbackedInfo* ShapeEnv::find_unbacked(SymExpr sym) const {
  if (!sym.is_symbol()) return nullptr;
  for (const UnbackedInfo& u : unbacked_) {
    if (u.sym == sym) return &u;
  }
  return nullptr;
}

bool ShapeEnv::has_unbacked(SymExpr e) const {
  if (unbacked_.empty() || e.is_const()) return false;
  for (const SymExpr& s : free_symbols(e)) {
    if (find_unbacked(s)) return true;
  }
  return false;
}

bool ShapeEnv::has_unbacked(const SymBool& c) const {
  if (c.as_const()) return false;
  return has_unbacked(c.lhs()) || has_unbacked(c.rhs());
}

std::optional<bool> ShapeEnv::decided_by_checks(const SymBool& cond) const {
  if (statically_true(cond)) return true;
  if (statically_true(cond.negated())) return false;
  for (const Guard& g : relations_) {
    if (g.cond == cond) return true;
    if (g.cond == cond.negated()) return false;
  }
  for (const Guard& g : decisions_) {
    if (g.cond == cond) return true;
    if (g.cond == cond.negated()) return false;
  }
  return std::nullopt;
}

namespace {

/// `text` (SymBool::str()) as python, each unbacked symbol replaced by what the user wrote for it
/// when known: "Eq(u0, 3)" -> "u0 == 3", "Ne(...)" -> "... != ...".
std::string python_text(const SymBool& c) {
  std::string s = c.str();
  auto binary = [&](const std::string& fn, const std::string& op) {
    if (s.rfind(fn + "(", 0) != 0 || s.back() != ')') return;
    const std::string inner = s.substr(fn.size() + 1, s.size() - fn.size() - 2);
    int depth = 0;
    for (size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '(') ++depth;
      if (inner[i] == ')') --depth;
      if (inner[i] == ',' && depth == 0) {
        s = inner.substr(0, i) + " " + op + inner.substr(i + 1);
        return;
      }
    }
  };
  binary("Eq", "==");
  binary("Ne", "!=");
  return s;
}

}  // namespace

std::string ShapeEnv::describe_unbacked(const SymBool& cond) const {
  // Symbols of the same description are named together (a detection model's 90 per-class score
  // filters: "u0, u2, ..., u178 (90 values) are the number of ... at ssd.py:255, each in [0, 3234]").
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // description -> symbols, first-seen order
  for (const SymExpr& s : cond.free_symbols()) {
    const UnbackedInfo* u = find_unbacked(s);
    if (!u) continue;
    const std::string what = u->what + (u->origin.source.empty() ? "" : " at " + u->origin.source) + ", range " +
                             u->range.str();
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == what; });
    if (it == groups.end()) it = groups.insert(groups.end(), {what, {}});
    it->second.push_back(s.str());
  }
  std::string out;
  for (const auto& [what, names] : groups) {
    out += out.empty() ? "" : "; ";
    if (names.size() == 1) {
      out += names[0] + " is " + what;
    } else if (names.size() <= 3) {
      for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : ", ") + names[i];
      out += " are each " + what;
    } else {
      out += names[0] + ", " + names[1] + ", ..., " + names.back() + " (" + std::to_string(names.size()) +
             " values) are each " + what;
    }
  }
  return out;
}

std::string ShapeEnv::data_dependent_message(const SymBool& cond, const Provenance& why) const {
  std::string out = (why.source.empty() ? std::string("model") : why.source) +
                    ": could not guard on data-dependent expression " + cond.str();
  if (const std::string symbols = describe_unbacked(cond); !symbols.empty()) out += " (" + symbols + ")";
  if (!why.op.empty() || !why.reason.empty()) {
    out += "\n  needed by " + (why.op.empty() ? std::string() : why.op) +
           (why.reason.empty() ? "" : (why.op.empty() ? "" : ": ") + why.reason);
  }
  if (!why.code.empty()) out += "\n    " + why.code;
  out += "\n  to fix the error, insert one of the following checks before this line (torch._check(...) or assert ...):"
         "\n    1. torch._check(" + python_text(cond) + ")\n    2. torch._check(" + python_text(cond.negated()) +
         ")\n  or rewrite the code so that it needs no decision on data (torch.where, or torch.cond in python); "
         "--draft takes the sample's decision and keeps it as a runtime assertion";
  return out;
}

bool ShapeEnv::undecided_on_data(const SymBool& cond) const {
  return !cond.as_const() && has_unbacked(cond) && !decided_by_checks(cond).has_value();
}

bool ShapeEnv::guard_unbacked(const SymBool& cond, bool value, const Provenance& why) {
  if (auto d = decided_by_checks(cond)) {
    PTX_INTERNAL_CHECK(*d == value) << "the checks decide " << cond.str() << " against the sample";
    return *d;
  }
  DataDependentProblem p{cond, value, why, data_dependent_message(cond, why)};
  problems_.push_back(p);
  if (!draft_) PTX_USER_FAIL(ExitCode::kExportFailed, "E_DATA_DEPENDENT") << p.message;
  decisions_.push_back(Guard{value ? cond : cond.negated(), why});
  return value;
}

void ShapeEnv::check(const SymBool& cond, const Provenance& why, const std::string& message) {
  if (auto k = cond.as_const()) {
    PTX_USER_CHECK(*k, ExitCode::kInput, "E_CHECK_FAILED")
        << (why.source.empty() ? std::string("model") : why.source) << ": the check always fails" <<
        (why.code.empty() ? "" : "\n    " + why.code);
    return;
  }
  const auto v = cond.evaluate(hints_);
  PTX_INTERNAL_CHECK(v.has_value()) << cond.str() << " cannot be evaluated on the sample";
  PTX_USER_CHECK(*v, ExitCode::kInput, "E_CHECK_FAILED")
      << (why.source.empty() ? std::string("model") : why.source) << ": the check " << cond.str()
      << " fails on the sample inputs" << (why.code.empty() ? "" : "\n    " + why.code);
  if (!has_unbacked(cond)) {
    guard_bool(cond, why);
    return;
  }
  if (statically_true(cond)) return;
  // A bound on one unbacked symbol refines its range (torch: u0 in [2, 8] after two checks).
  if (cond.lhs().is_symbol() && cond.rhs().is_const()) {
    for (UnbackedInfo& u : unbacked_) {
      if (u.sym != cond.lhs()) continue;
      const int64_t c = cond.rhs().value();
      switch (cond.rel()) {
        case Rel::Ge: u.range.min = std::max(u.range.min, c); return;
        case Rel::Le: u.range.max = u.range.max ? std::min(*u.range.max, c) : c; return;
        case Rel::Eq:
          u.range.min = c;
          u.range.max = c;
          return;
        default: break;
      }
    }
  }
  for (const Guard& g : relations_) {
    if (g.cond == cond) return;
  }
  relations_.push_back(Guard{cond, why, message});
}

std::vector<Guard> ShapeEnv::deferred_asserts() const {
  std::vector<Guard> out;
  for (const UnbackedInfo& u : unbacked_) {
    Provenance why = u.origin;
    why.reason = "the range of " + u.sym.str() + " (" + u.what + ")";
    if (u.range.min != Range::kNoMin) out.push_back(Guard{sym_ge(u.sym, u.range.min), why});
    if (u.range.max) out.push_back(Guard{sym_le(u.sym, *u.range.max), why});
  }
  out.insert(out.end(), relations_.begin(), relations_.end());
  out.insert(out.end(), decisions_.begin(), decisions_.end());
  return out;
}

}  // namespace ptx::shapes
