// lib/inputs_dims.cpp: steps 4 to 8 of load_inputs: every sample set shaped as the first, the
// --dynamic TARGET=MARK flags, dimensions that differ between `samples`, the symbols and their
// ranges, and the sample sizes checked against them. See lib/inputs_impl.h.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "lib/did_you_mean.h"
#include "lib/dim_spec.h"
#include "lib/inputs_impl.h"
#include "shapes/error.h"

namespace ptx::inputs {

// ---- step 4: the structure of every sample set ---------------------------------------------------

namespace {

/// The first non-tensor difference between two argument values: "k: 3 vs 4" style, or "".
std::string constant_difference(const c10::IValue& a, const c10::IValue& b, const std::string& path) {
  auto show = [](const c10::IValue& v) {
    std::ostringstream os;
    if (v.isString()) {
      os << Json(v.toStringRef()).dump();
    } else if (v.isTensor()) {
      os << "a tensor";
    } else if (v.isList() || v.isTuple() || v.isGenericDict()) {
      os << "a container";
    } else {
      os << v;
    }
    return os.str();
  };
  const std::string whole = path + " is " + show(b) + " here and " + show(a) + " in the first sample";
  if (a.isTensor() || b.isTensor()) return a.isTensor() == b.isTensor() ? "" : whole;
  if (a.isList() && b.isList()) {
    const auto la = a.toListRef(), lb = b.toListRef();
    if (la.size() != lb.size()) {
      return path + " has " + std::to_string(lb.size()) + " entries here and " + std::to_string(la.size()) +
             " in the first sample";
    }
    for (size_t i = 0; i < la.size(); ++i) {
      if (auto d = constant_difference(la[i], lb[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isTuple() && b.isTuple()) {
    const auto& ea = a.toTupleRef().elements();
    const auto& eb = b.toTupleRef().elements();
    for (size_t i = 0; i < std::min(ea.size(), eb.size()); ++i) {
      if (auto d = constant_difference(ea[i], eb[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isGenericDict() && b.isGenericDict()) {
    const auto da = a.toGenericDict(), db = b.toGenericDict();
    std::vector<std::string> ka, kb;
    for (const auto& e : da) ka.push_back(show(e.key()));
    for (const auto& e : db) kb.push_back(show(e.key()));
    if (ka != kb) {
      return path + " has keys (" + join_names(kb) + ") here and (" + join_names(ka) + ") in the first sample";
    }
    for (const auto& e : da) {
      const std::string k = e.key().isString() ? "'" + e.key().toStringRef() + "'" : show(e.key());
      if (auto d = constant_difference(e.value(), db.at(e.key()), path + "[" + k + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isNone() && b.isNone()) return "";
  if (a.isInt() && b.isInt()) return a.toInt() == b.toInt() ? "" : whole;
  if (a.isDouble() && b.isDouble()) return a.toDouble() == b.toDouble() ? "" : whole;
  if (a.isBool() && b.isBool()) return a.toBool() == b.toBool() ? "" : whole;
  if (a.isString() && b.isString()) return a.toStringRef() == b.toStringRef() ? "" : whole;
  return whole;
}

}  // namespace

void Loader::check_same_structure(const BoundSet& first, const BoundSet& other) const {
  auto paths = [](const BoundSet& s) {
    std::vector<std::string> p;
    for (const auto& t : s.set.tensors) p.push_back(t.path);
    return p;
  };
  if (paths(first) != paths(other)) {
    input_fail(other.jpath, "its tensors (" + join_names(paths(other)) + ") differ from " + first.jpath + "'s (" +
                                join_names(paths(first)) + "); every sample needs the same structure");
  }
  for (size_t i = 0; i < first.set.args.size(); ++i) {
    const std::string d = constant_difference(first.set.args[i], other.set.args[i], first.set.names[i]);
    if (!d.empty()) {
      input_fail(other.jpath, d + "; non-tensor inputs are specialized (constants of the exported program), so "
                                  "they must be equal in every sample");
    }
  }
  size_t leaf = 0;
  std::function<void(const c10::IValue&, const c10::IValue&)> walk = [&](const c10::IValue& a, const c10::IValue& b) {
    if (a.isTensor()) {
      const at::Tensor &ta = a.toTensor(), &tb = b.toTensor();
      const TensorLeaf& l = other.set.tensors[leaf];
      if (ta.scalar_type() != tb.scalar_type() || ta.dim() != tb.dim()) {
        input_fail(other.info[leaf].jpath, l.path + " is " + dtype_str(tb.scalar_type()) + " " +
                                               shape_str(tb.sizes().vec()) + " here but " +
                                               dtype_str(ta.scalar_type()) + " " + shape_str(ta.sizes().vec()) +
                                               " in " + first.jpath + "; samples may differ in sizes only");
      }
      ++leaf;
    } else if (a.isList()) {
      const auto la = a.toListRef(), lb = b.toListRef();
      for (size_t i = 0; i < la.size(); ++i) walk(la[i], lb[i]);
    } else if (a.isTuple()) {
      const auto& ea = a.toTupleRef().elements();
      const auto& eb = b.toTupleRef().elements();
      for (size_t i = 0; i < ea.size(); ++i) walk(ea[i], eb[i]);
    } else if (a.isGenericDict()) {
      const auto db = b.toGenericDict();
      for (const auto& e : a.toGenericDict()) walk(e.value(), db.at(e.key()));
    }
  };
  for (size_t i = 0; i < first.set.args.size(); ++i) walk(first.set.args[i], other.set.args[i]);
}

// ---- step 5: --dynamic TARGET=MARK ---------------------------------------------------------------

void Loader::apply_flag(const DynamicFlag& f, std::vector<BoundSet>& sets) const {
  const std::string where = "--dynamic '" + f.text + "'";
  const SampleSet& s0 = sets[0].set;
  std::vector<std::string> paths;
  size_t index = s0.tensors.size();
  for (size_t i = 0; i < s0.tensors.size(); ++i) {
    paths.push_back(s0.tensors[i].path);
    if (s0.tensors[i].path == f.input) index = i;
  }
  auto spec_fail = [&](const std::string& msg) { PTX_USER_FAIL(ExitCode::kUsage, kDiagName) << where << ": " << msg; };
  if (index == s0.tensors.size()) {
    std::vector<std::string> inside;
    for (const auto& p : paths) {
      if (p.starts_with(f.input + "[")) inside.push_back(p);
    }
    if (!inside.empty()) {
      spec_fail("'" + f.input + "' is not a tensor; name a tensor inside it: " + join_names(inside));
    }
    const auto arg = std::find(s0.names.begin(), s0.names.end(), f.input);
    if (arg != s0.names.end()) {
      const auto& all = schema_.arguments();
      const auto p = std::find_if(all.begin(), all.end(), [&](const c10::Argument& a) { return a.name() == f.input; });
      const std::string type = p == all.end() ? "" : " (" + p->type()->annotation_str() + ")";
      spec_fail("'" + f.input + "' is not a tensor" + type + "; inputs are: " + join_names(paths));
    }
    spec_fail("unknown input '" + f.input + "'" + suggest_and_list(f.input, paths, "inputs"));
  }
  for (BoundSet& b : sets) {
    TensorLeaf& leaf = b.set.tensors[index];
    LeafInfo& info = b.info[index];
    const auto rank = static_cast<int64_t>(leaf.shape.size());
    if (f.dim < -rank || f.dim >= rank) {
      spec_fail(leaf.path + " has " + std::to_string(rank) + " dimension" + (rank == 1 ? "" : "s") + " (shape " +
                shape_str(leaf.shape) + ")" +
                (rank ? "; DIM must be in [" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]" : ""));
    }
    const auto d = static_cast<size_t>(f.dim < 0 ? f.dim + rank : f.dim);
    leaf.dims[d] = f.mark;
    info.origin[d] = where;
    info.marked[d] = true;
    info.explicit_static[d] = f.mark.kind == DimMark::Kind::kStatic;
  }
}

// ---- step 6: samples -----------------------------------------------------------------------------

void Loader::infer_from_samples(std::vector<BoundSet>& sets) const {
  BoundSet& first = sets[0];
  for (size_t i = 0; i < first.set.tensors.size(); ++i) {
    for (size_t d = 0; d < first.set.tensors[i].shape.size(); ++d) {
      // Merge the marks: the sets must agree where they mark a dimension.
      const BoundSet* marker = nullptr;
      for (const BoundSet& b : sets) {
        if (!b.info[i].marked[d]) continue;
        if (!marker) {
          marker = &b;
          continue;
        }
        const DimMark &x = marker->set.tensors[i].dims[d], &y = b.set.tensors[i].dims[d];
        if (x.kind != y.kind || x.symbol != y.symbol || x.a != y.a || x.b != y.b) {
          PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
              << b.info[i].origin[d] << ": " << b.set.tensors[i].path << "." << d << " is marked '" << to_string(y)
              << "' here and '" << to_string(x) << "' in " << marker->info[i].origin[d]
              << "; samples must mark a dimension alike";
        }
      }
      std::set<int64_t> sizes;
      for (const BoundSet& b : sets) sizes.insert(b.set.tensors[i].shape[d]);
      DimMark mark = marker ? marker->set.tensors[i].dims[d] : DimMark{};
      const std::string origin = marker ? marker->info[i].origin[d] : "";
      const bool explicit_static = marker && marker->info[i].explicit_static[d];
      if (sizes.size() > 1) {
        std::string seen;
        for (const BoundSet& b : sets) {
          seen += (seen.empty() ? "" : ", ") + std::to_string(b.set.tensors[i].shape[d]);
        }
        if (explicit_static) {
          PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
              << origin << ": " << first.set.tensors[i].path << "." << d
              << " is marked static, but its size differs between samples (" << seen << ")";
        }
        if (mark.kind == DimMark::Kind::kStatic || mark.kind == DimMark::Kind::kAuto) {
          mark = DimMark{};
          mark.kind = DimMark::Kind::kDynamic;
          mark.from_samples = true;
        }
      }
      for (BoundSet& b : sets) {
        b.set.tensors[i].dims[d] = mark;
        b.info[i].origin[d] = origin;
        b.info[i].marked[d] = marker != nullptr;
        b.info[i].explicit_static[d] = explicit_static;
      }
    }
  }
}

// ---- steps 7 and 8: symbols ----------------------------------------------------------------------

namespace {

/// The symbols the marks of `sets` use, in order of first use.
std::vector<std::string> used_symbols(const std::vector<BoundSet>& sets) {
  std::vector<std::string> used;
  for (const BoundSet& b : sets) {
    for (const TensorLeaf& t : b.set.tensors) {
      for (const DimMark& m : t.dims) {
        if (m.kind == DimMark::Kind::kSymbol && std::find(used.begin(), used.end(), m.symbol) == used.end()) {
          used.push_back(m.symbol);
        }
      }
    }
  }
  return used;
}

}  // namespace

void Loader::check_json_ranges(const std::vector<BoundSet>& sets) const {
  const std::vector<std::string> used = used_symbols(sets);
  for (const auto& [name, spec] : json_ranges_) {
    if (std::find(used.begin(), used.end(), name) != used.end()) continue;
    PTX_USER_FAIL(ExitCode::kUsage, kDiagName)
        << range_origin_.at(name) << ": symbol '" << name << "' is not used by any input"
        << (used.empty() ? std::string("; no input dimension uses a symbol (mark one with dims)")
                         : suggest_and_list(name, used, "symbols in use"));
  }
}

void Loader::collect_symbols(const std::vector<BoundSet>& sets, const std::vector<DynamicFlag>& flags, Inputs& out) {
  const std::vector<std::string> used = used_symbols(sets);
  auto unused = [&](const std::string& where, const std::string& name) {
    PTX_USER_FAIL(ExitCode::kUsage, kDiagName)
        << where << ": symbol '" << name << "' is not used by any input"
        << (used.empty() ? std::string("; no input dimension uses a symbol (mark one with dims or --dynamic INPUT.DIM=SYM)")
                         : suggest_and_list(name, used, "symbols in use"));
  };
  // A JSON range whose symbol only flags made unused (x.0=dynamic replacing x.0's "batch") is dropped.
  std::map<std::string, SymbolSpec> ranges = json_ranges_;
  for (const DynamicFlag& f : flags) {
    if (f.kind != DynamicFlag::Kind::kRange) continue;
    if (std::find(used.begin(), used.end(), f.range.name) == used.end()) unused("--dynamic '" + f.text + "'", f.range.name);
    ranges[f.range.name] = f.range;  // a flag replaces the JSON's range (both sides); the last flag wins
    range_origin_[f.range.name] = "--dynamic '" + f.text + "'";
  }
  for (const std::string& name : used) {
    SymbolSpec s = ranges.count(name) ? ranges.at(name) : SymbolSpec{name, std::nullopt, std::nullopt};
    out.symbols[name] = s;
  }
}

void Loader::check_sizes(const BoundSet& b, const Inputs& in) const {
  struct Use {
    const TensorLeaf* leaf;
    size_t dim;
    const std::string* origin;
  };
  std::map<std::string, std::vector<Use>> uses;
  for (size_t i = 0; i < b.set.tensors.size(); ++i) {
    const TensorLeaf& t = b.set.tensors[i];
    for (size_t d = 0; d < t.dims.size(); ++d) {
      if (t.dims[d].kind == DimMark::Kind::kSymbol) uses[t.dims[d].symbol].push_back({&t, d, &b.info[i].origin[d]});
    }
  }
  const std::string in_set = b.jpath.empty() ? "" : " (in " + b.jpath + ")";
  for (const auto& [name, list] : uses) {
    // The symbol's value: from a plain use if there is one (as torch does), else the first use.
    const Use* root_use = &list[0];
    for (const Use& u : list) {
      if (u.leaf->dims[u.dim].a == 1 && u.leaf->dims[u.dim].b == 0) {
        root_use = &u;
        break;
      }
    }
    auto desc = [](const Use& u) {
      return u.leaf->path + "." + std::to_string(u.dim) + " = " + std::to_string(u.leaf->shape[u.dim]);
    };
    const DimMark& rm = root_use->leaf->dims[root_use->dim];
    const int64_t rsize = root_use->leaf->shape[root_use->dim];
    if ((rsize - rm.b) % rm.a != 0 || rsize - rm.b < 0) {
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << *root_use->origin << ": " << desc(*root_use) << " cannot be " << to_string(rm) << " for a whole "
          << name << " >= 0" << in_set;
    }
    const int64_t value = (rsize - rm.b) / rm.a;
    for (const Use& u : list) {
      const DimMark& m = u.leaf->dims[u.dim];
      const __int128 want = static_cast<__int128>(m.a) * value + m.b;
      if (u.leaf->shape[u.dim] != want) {
        PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
            << *u.origin << ": " << desc(u) << " does not fit " << to_string(m) << ": " << name << " = " << value
            << " (from " << desc(*root_use) << ") gives " << std::to_string(static_cast<long long>(want)) << in_set
            << "; dimensions that share a symbol must have matching sample sizes";
      }
    }
    const SymbolSpec& spec = in.symbols.at(name);
    if ((spec.min && value < *spec.min) || (spec.max && value > *spec.max)) {
      const auto o = range_origin_.find(name);
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << (o != range_origin_.end() ? o->second : std::string("--dynamic")) << ": the sample has " << name
          << " = " << value << " (" << desc(*root_use) << ")" << in_set << ", outside " << name << "'s range ["
          << (spec.min ? std::to_string(*spec.min) : "0") << ", " << (spec.max ? std::to_string(*spec.max) : "inf")
          << "]";
    }
    // A derived dimension must not go negative anywhere in the range (torch refuses that too).
    const int64_t lo = spec.min.value_or(0);
    for (const Use& u : list) {
      const DimMark& m = u.leaf->dims[u.dim];
      if (static_cast<__int128>(m.a) * lo + m.b < 0) {
        const int64_t need = (-m.b + m.a - 1) / m.a;
        PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
            << *u.origin << ": " << u.leaf->path << "." << u.dim << " = " << to_string(m) << " is negative for "
            << name << " = " << lo << "; give " << name << " a min of at least " << need << " (--dynamic " << name
            << "=" << need << ":" << (spec.max ? std::to_string(*spec.max) : "") << ")";
      }
    }
  }
  check_max_sizes_exist(b, in);
}

void Loader::check_max_sizes_exist(const BoundSet& b, const Inputs& in) const {
  // Every symbol at its max: a tensor past kMaxTensorElements cannot exist (its bytes would not fit
  // in 64 bits), so such a range is a spec error, not something to verify or write into an artifact.
  for (const TensorLeaf& t : b.set.tensors) {
    __int128 numel = 1;
    std::string at;
    for (size_t d = 0; d < t.dims.size(); ++d) {
      const DimMark& m = t.dims[d];
      __int128 size = t.shape[d];
      if (m.kind == DimMark::Kind::kSymbol) {
        const SymbolSpec& spec = in.symbols.at(m.symbol);
        if (!spec.max) continue;  // unbounded: nothing to check
        size = static_cast<__int128>(m.a) * *spec.max + m.b;
        at += (at.empty() ? "" : ", ") + m.symbol + " = " + std::to_string(*spec.max);
      }
      numel = std::min<__int128>(numel * size, static_cast<__int128>(1) << 100);
    }
    if (numel > kMaxTensorElements) {
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << "at " << at << ", input " << t.path << " would hold more than 2^60 elements: a range whose sizes "
          << "cannot exist (no tensor's bytes fit in 64 bits); give a smaller max";
    }
  }
}

}  // namespace ptx::inputs
