// shapes/witness.cpp: see witness.h.
#include "shapes/witness.h"

namespace ptx::shapes {

std::optional<Assignment> nearest_point(const ShapeEnv& env, const std::map<std::string, Range>& ranges,
                                        const Assignment& target, const SolverBudget& budget) {
  try {
    z3::context ctx;
    Z3Lowering low(ctx);
    z3::optimize opt(ctx);
    z3::params p(ctx);
    p.set("rlimit", static_cast<unsigned>(std::min<uint64_t>(budget.rlimit, UINT32_MAX)));
    p.set("ctrl_c", false);  // ^C is ptexport's (see make_solver)
    (void)budget.random_seed;  // z3::optimize takes no random_seed parameter; its default seed is fixed (0)
    opt.set(p);
    z3::expr distance = ctx.int_val(0);
    for (const SymbolInfo& s : env.symbols()) {
      const z3::expr x = low.symbol(s.sym);
      Range r = s.requested;
      if (auto it = ranges.find(s.sym.str()); it != ranges.end()) r = it->second;
      opt.add(x >= ctx.int_val(r.min));
      if (r.max) opt.add(x <= ctx.int_val(*r.max));
      auto t = target.find(s.sym.symbol_id());
      const int64_t aim = t != target.end() ? t->second : s.hint;
      const z3::expr d = x - ctx.int_val(aim);
      distance = distance + z3::ite(d >= 0, d, -d);
    }
    for (const Guard& g : env.guards()) {
      if (g.cond.as_const() == std::optional<bool>(true)) continue;
      opt.add(low.lower(g.cond));
    }
    for (unsigned i = 0; i < low.definedness().size(); ++i) opt.add(low.definedness()[i]);
    opt.minimize(distance);
    if (opt.check() != z3::sat) return std::nullopt;
    Assignment out = model_values(opt.get_model(), low);
    // The model must satisfy every guard when evaluated with our own semantics too.
    for (const Guard& g : env.guards()) {
      if (g.cond.evaluate(out) != std::optional<bool>(true)) return std::nullopt;
    }
    return out;
  } catch (const z3::exception&) {
    return std::nullopt;
  }
}

}  // namespace ptx::shapes
