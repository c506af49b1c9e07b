// cmd/fixes.cpp: see fixes.h.
#include "cmd/fixes.h"

#include <map>
#include <optional>
#include <set>

#include "lib/dim_spec.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

using shapes::Suggestion;

std::string linear_flag(int64_t k, const std::string& root, int64_t m) {
  std::string out = k == 1 ? root : std::to_string(k) + "*" + root;
  if (m > 0) out += "+" + std::to_string(m);
  if (m < 0) out += "-" + std::to_string(-m);
  return out;
}

/// One "TARGET=VALUE" per input dim of the suggestion's symbol.
std::vector<std::string> per_target(const Suggestion& s, const std::string& value) {
  std::vector<std::string> out;
  for (const std::string& src : s.sources) out.push_back(source_to_target(src) + "=" + value);
  return out;
}

/// What a flag sets: "=batch" for the range of symbol batch, "x.0" for the mark of x's first dim
/// (a negative DIM counted from the end of that input's shape).
std::string flag_key(const DynamicFlag& f, const std::vector<TensorLeaf>& leaves) {
  if (f.kind == DynamicFlag::Kind::kRange) return "=" + f.range.name;
  int64_t dim = f.dim;
  for (const TensorLeaf& l : leaves) {
    if (l.path == f.input && dim < 0) dim += static_cast<int64_t>(l.shape.size());
  }
  return f.input + "." + std::to_string(dim);
}

std::string mark_symbol(const DimMark& m) { return m.kind == DimMark::Kind::kSymbol ? m.symbol : ""; }

/// A suggestion's flags parsed; nullopt when one does not parse (it is then left out of the
/// corrected command line, which is not made).
std::optional<std::vector<DynamicFlag>> parse_all(const std::vector<std::string>& values) {
  std::vector<DynamicFlag> out;
  for (const std::string& v : values) {
    try {
      out.push_back(parse_dynamic_flag(v));
    } catch (const Error&) {
      return std::nullopt;
    }
  }
  return out;
}

/// Where the user's --dynamic flags are in argv: (first token, token count) per flag, in order, and
/// the index of "--" (argv.size() when absent). Empty spans when argv's flags are not `dynamic`.
struct FlagSpans {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t end_of_options = 0;
};

std::optional<FlagSpans> find_flags(const std::vector<std::string>& argv, const std::vector<std::string>& dynamic) {
  FlagSpans out;
  out.end_of_options = argv.size();
  std::vector<std::string> values;
  const std::string eq = "--dynamic=";
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--") {
      out.end_of_options = i;
      break;
    }
    if (argv[i] == "--dynamic" && i + 1 < argv.size()) {
      out.spans.emplace_back(i, 2);
      values.push_back(argv[++i]);
    } else if (argv[i].rfind(eq, 0) == 0) {
      out.spans.emplace_back(i, 1);
      values.push_back(argv[i].substr(eq.size()));
    }
  }
  if (values != dynamic) return std::nullopt;
  return out;
}

/// For each user flag, the suggestion that replaces it (-1: none).
std::vector<int> replacing_fix(const std::vector<std::vector<DynamicFlag>>& fixes, const std::vector<DynamicFlag>& user,
                               const std::vector<TensorLeaf>& leaves) {
  std::vector<int> by(user.size(), -1);
  // The same left side.
  for (size_t j = 0; j < user.size(); ++j) {
    const std::string key = flag_key(user[j], leaves);
    for (size_t i = 0; i < fixes.size() && by[j] < 0; ++i) {
      for (const DynamicFlag& f : fixes[i]) {
        if (flag_key(f, leaves) == key) by[j] = static_cast<int>(i);
      }
    }
  }
  // The symbols the input dims use before and after every fix.
  std::map<std::string, std::string> before, after;
  for (const TensorLeaf& l : leaves) {
    for (size_t d = 0; d < l.dims.size(); ++d) before[l.path + "." + std::to_string(d)] = mark_symbol(l.dims[d]);
  }
  after = before;
  for (const auto& flags : fixes) {
    for (const DynamicFlag& f : flags) {
      if (f.kind == DynamicFlag::Kind::kMark) after[flag_key(f, leaves)] = mark_symbol(f.mark);
    }
  }
  std::set<std::string> used_before, used_after;
  for (const auto& [k, s] : before) used_before.insert(s);
  for (const auto& [k, s] : after) used_after.insert(s);
  // A range of a symbol no dim uses any more goes with the fix that changed a dim using it.
  for (size_t j = 0; j < user.size(); ++j) {
    if (by[j] >= 0 || user[j].kind != DynamicFlag::Kind::kRange) continue;
    const std::string& sym = user[j].range.name;
    if (!used_before.count(sym) || used_after.count(sym)) continue;
    int owner = -1;
    for (size_t i = 0; i < fixes.size() && owner < 0; ++i) {
      for (const DynamicFlag& f : fixes[i]) {
        if (f.kind == DynamicFlag::Kind::kMark && before[flag_key(f, leaves)] == sym) owner = static_cast<int>(i);
      }
    }
    by[j] = owner;
  }
  return by;
}

void push_flags(std::vector<std::string>& out, const std::vector<std::string>& values) {
  for (const std::string& v : values) {
    out.push_back("--dynamic");
    out.push_back(v);
  }
}

}  // namespace

std::string source_to_target(const std::string& source) {
  const std::string marker = ".size()[";
  size_t p = source.rfind(marker);
  if (p == std::string::npos || source.back() != ']') return source;
  std::string idx = source.substr(p + marker.size(), source.size() - p - marker.size() - 1);
  if (idx.empty() || idx.find_first_not_of("-0123456789") != std::string::npos) return source;
  return source.substr(0, p) + "." + idx;
}

std::vector<std::string> flag_values(const Suggestion& s) {
  switch (s.kind) {
    case Suggestion::Kind::kRange:
      return {s.symbol + "=" + std::to_string(s.range.min) + ":" + (s.range.max ? std::to_string(*s.range.max) : "")};
    case Suggestion::Kind::kStatic:
      return per_target(s, "static");
    case Suggestion::Kind::kRelation:
      return per_target(s, linear_flag(s.k, s.root, s.m));
  }
  return {};
}

std::string flag_form(const Suggestion& s) {
  std::string out;
  for (const std::string& v : flag_values(s)) out += (out.empty() ? "--dynamic " : " --dynamic ") + v;
  return out;
}

AppliedFixes apply_fixes(const std::vector<Suggestion>& suggestions, const std::vector<std::string>& dynamic,
                         const std::vector<std::string>& argv, const std::vector<TensorLeaf>& leaves) {
  AppliedFixes out;
  out.replaces.resize(suggestions.size());
  std::vector<std::vector<std::string>> values;
  std::vector<std::vector<DynamicFlag>> fixes;
  bool all_parsed = true;
  for (const Suggestion& s : suggestions) {
    values.push_back(flag_values(s));
    std::optional<std::vector<DynamicFlag>> parsed = parse_all(values.back());
    all_parsed = all_parsed && parsed.has_value();
    fixes.push_back(parsed.value_or(std::vector<DynamicFlag>{}));
  }
  std::optional<std::vector<DynamicFlag>> user = parse_all(dynamic);
  if (!user) return out;  // cannot happen after the inputs loaded: the flags parsed there
  const std::vector<int> by = replacing_fix(fixes, *user, leaves);
  for (size_t j = 0; j < by.size(); ++j) {
    if (by[j] >= 0) out.replaces[by[j]].push_back("--dynamic " + dynamic[j]);
  }

  const std::optional<FlagSpans> where = argv.empty() ? std::nullopt : find_flags(argv, dynamic);
  if (!where || !all_parsed) return out;
  std::vector<bool> placed(suggestions.size(), false);
  auto place = [&](std::vector<std::string>& line, size_t i) {
    if (!placed[i]) push_flags(line, values[i]);
    placed[i] = true;
  };
  // Fixes that replace nothing go after the user's last --dynamic (or before "--", or at the end).
  const size_t added_at = where->spans.empty() ? where->end_of_options
                                               : where->spans.back().first + where->spans.back().second;
  std::vector<std::string>& line = out.argv;
  size_t flag = 0;
  for (size_t t = 0; t <= argv.size(); ++t) {
    if (t == added_at) {
      for (size_t i = 0; i < suggestions.size(); ++i) {
        if (out.replaces[i].empty()) place(line, i);
      }
    }
    if (t == argv.size()) break;
    if (flag < where->spans.size() && where->spans[flag].first == t) {
      const auto [first, count] = where->spans[flag];
      if (by[flag] < 0) {
        line.insert(line.end(), argv.begin() + first, argv.begin() + first + count);
      } else {
        place(line, by[flag]);  // the first flag a fix replaces takes its place; the others go
      }
      t += count - 1;
      ++flag;
      continue;
    }
    line.push_back(argv[t]);
  }
  return out;
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") ==
                           std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& w : argv) out += (out.empty() ? "" : " ") + shell_quote(w);
  return out;
}

}  // namespace ptx::cmd
