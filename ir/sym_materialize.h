// ir/sym_materialize.h: computing a symbolic integer at run time, as graph nodes.
//
// A symbol (s0) is read off an input dimension whose size is a*s0 + b (`aten::sym_size.int(x, d)`,
// then `_operator.sub` / `_operator.floordiv` to undo b and a); an expression over symbols becomes
// torch.export's Python-operator nodes on SymInts:
//   s0 + 1     -> add: "Sym(s0 + 1)" = sym_size_int + 1          (_operator.add)
//   3*s0       -> mul: "Sym(3*s0)" = sym_size_int * 3            (_operator.mul)
//   (s0//4)    -> floordiv = sym_size_int // 4                   (_operator.floordiv)
//   Mod(s0, 4) -> mod = sym_size_int % 4                         (_operator.mod)
//   Min/Max    -> torch.sym_min / torch.sym_max
// Every value made is cached (and so is every value registered with add_existing), so each
// expression is computed once. The frontend uses it for sizes that flow into ops; the runtime
// assert pass uses it for the conditions it checks.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_set>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace ptx::ir {

/// Where a symbol can be read at run time: dimension `dim` of `value`, whose size is a*sym + b.
struct SymSource {
  Value* value = nullptr;
  int64_t dim = 0;
  int64_t a = 1, b = 0;
};

class SymMaterializer {
 public:
  explicit SymMaterializer(Graph& graph) : graph_(graph) {}

  /// Registers every dimension of tensor `v` whose size is a*s + b with one symbol s (a != 0) as a
  /// source of s, unless s already has one (the first source wins).
  void add_sources_from(Value* v);
  /// Registers a source for `sym` (a symbol), unless it already has one.
  void add_source(shapes::SymExpr sym, SymSource source);
  bool has_source(shapes::SymExpr sym) const;
  /// Registers `v` (a SymInt value with a sym) as computing v->sym(), to be reused.
  void add_existing(Value* v);

  /// A value computing `e` (not a constant): a cached one, or new call nodes appended to the graph.
  /// InternalError if a symbol of `e` has no source.
  Value* materialize(shapes::SymExpr e);

  /// Forgets every cached value and source produced by one of `gone` (nodes moved into a cond
  /// branch's subgraph): they are no longer values of this graph.
  void forget(const std::vector<Node*>& gone);

  /// The call nodes made so far, in creation order.
  const std::vector<Node*>& created() const { return created_; }

 private:
  Value* sym_call(const char* target, const char* name, std::vector<NamedArg> args, shapes::SymExpr e);
  ArgValue operand(shapes::SymExpr x);

  Graph& graph_;
  std::map<int, SymSource> sources_;  // by symbol id
  std::unordered_map<shapes::SymExpr, Value*> cache_;
  std::vector<Node*> created_;
};

}  // namespace ptx::ir
