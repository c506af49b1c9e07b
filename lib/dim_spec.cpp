// lib/dim_spec.cpp: the `--dynamic` / `dims` grammar. See lib/dim_spec.h.
#include "lib/dim_spec.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include "shapes/error.h"

namespace ptx {
namespace {

constexpr const char* kDiag = "E_DYNAMIC_SPEC";
constexpr const char* kFlagForms =
    "expected SYM=[MIN]:[MAX], INPUT.DIM=SYM, INPUT.DIM=A*SYM+B or INPUT.DIM=auto|dynamic|static";

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  for (char c : s) {
    if (!is_ident_char(c)) return false;
  }
  return true;
}

bool is_reserved(std::string_view s) { return s == "auto" || s == "dynamic" || s == "static"; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

/// A decimal integer with an optional leading '-', the whole of `s`; nullopt on junk or overflow.
std::optional<int64_t> parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// ---- LIN tokens ----------------------------------------------------------------------------------
struct Token {
  enum class Kind : uint8_t { kInt, kIdent, kStar, kPlus, kMinus, kOther };
  Kind kind;
  std::string_view text;
};

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_blank(c)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    Token::Kind kind = Token::Kind::kOther;
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (j < s.size() && is_ident_char(s[j])) ++j;  // "2b" is one (bad) integer token
      kind = Token::Kind::kInt;
    } else if (is_ident_start(c)) {
      while (j < s.size() && is_ident_char(s[j])) ++j;
      kind = Token::Kind::kIdent;
    } else if (c == '*') {
      kind = Token::Kind::kStar;
    } else if (c == '+') {
      kind = Token::Kind::kPlus;
    } else if (c == '-') {
      kind = Token::Kind::kMinus;
    } else {
      while (j < s.size() && !is_blank(s[j]) && !is_ident_char(s[j]) && s[j] != '*' && s[j] != '+' &&
             s[j] != '-') {
        ++j;
      }
    }
    out.push_back({kind, s.substr(i, j - i)});
    i = j;
  }
  return out;
}

}  // namespace

bool is_symbol_name(std::string_view name) { return is_identifier(name) && !is_reserved(name); }

DimMark parse_dim_mark(std::string_view text, const std::string& where) {
  const std::string quoted = "'" + std::string(text) + "'";
  auto fail = [&](const std::string& problem) -> void {
    PTX_USER_FAIL(ExitCode::kUsage, kDiag) << where << ": " << quoted << ": " << problem;
  };
  const std::vector<Token> t = tokenize(text);
  DimMark m;
  if (t.empty()) {
    fail("empty mark; expected a symbol (batch), an expression (2*batch+1), auto, dynamic or static");
  }
  using K = Token::Kind;
  size_t i = 0;
  auto at = [&](size_t k, K kind) { return k < t.size() && t[k].kind == kind; };
  auto int_value = [&](const Token& tok) -> int64_t {
    const auto v = parse_int(tok.text);
    if (!v) fail("'" + std::string(tok.text) + "' is not an integer");
    return *v;
  };
  if (t.size() == 1 && t[0].kind == K::kIdent && is_reserved(t[0].text)) {
    m.kind = t[0].text == "auto" ? DimMark::Kind::kAuto
             : t[0].text == "dynamic" ? DimMark::Kind::kDynamic
                                      : DimMark::Kind::kStatic;
    return m;
  }
  if (at(0, K::kMinus) && at(1, K::kInt) && at(2, K::kStar)) fail("the factor must be positive");
  if (at(0, K::kInt)) {
    m.a = int_value(t[0]);
    if (t.size() == 1) {
      fail("a number is not a mark (the size comes from shape); use null or static for a static dimension");
    }
    if (!at(1, K::kStar)) fail("expected '*' after the factor " + std::string(t[0].text));
    if (m.a <= 0) fail("the factor must be positive");
    if (!at(2, K::kIdent)) fail("expected a symbol after '*'");
    i = 2;
  }
  if (!at(i, K::kIdent)) fail("expected a symbol (batch), an expression (2*batch+1), auto, dynamic or static");
  if (is_reserved(t[i].text)) fail("'" + std::string(t[i].text) + "' is a reserved word, not a symbol");
  m.kind = DimMark::Kind::kSymbol;
  m.symbol = std::string(t[i].text);
  ++i;
  if (at(i, K::kStar)) {
    fail("write the factor before the symbol (" + std::string(i + 1 < t.size() ? t[i + 1].text : "A") + "*" +
         m.symbol + ")");
  }
  if (at(i, K::kPlus) || at(i, K::kMinus)) {
    const bool minus = t[i].kind == K::kMinus;
    if (!at(i + 1, K::kInt)) fail(std::string("expected an integer after '") + (minus ? "-" : "+") + "'");
    const int64_t b = int_value(t[i + 1]);
    m.b = minus ? -b : b;
    i += 2;
  }
  if (i < t.size()) fail("unexpected '" + std::string(t[i].text) + "'");
  return m;
}

std::optional<std::string> normalize_input_path(std::string_view path) {
  size_t i = 0;
  while (i < path.size() && is_ident_char(path[i])) ++i;
  if (!is_identifier(path.substr(0, i))) return std::nullopt;
  std::string out(path.substr(0, i));
  while (i < path.size()) {
    if (path[i] != '[') return std::nullopt;
    const size_t close_search = i + 1;
    if (close_search < path.size() && (path[close_search] == '\'' || path[close_search] == '"')) {
      const char q = path[close_search];
      const size_t end = path.find(q, close_search + 1);
      if (end == std::string_view::npos || end + 1 >= path.size() || path[end + 1] != ']') return std::nullopt;
      const std::string_view key = path.substr(close_search + 1, end - close_search - 1);
      if (key.find('\'') != std::string_view::npos) return std::nullopt;
      out += "['" + std::string(key) + "']";
      i = end + 2;
    } else {
      const size_t end = path.find(']', close_search);
      if (end == std::string_view::npos) return std::nullopt;
      const auto index = parse_int(path.substr(close_search, end - close_search));
      if (!index || *index < 0) return std::nullopt;
      out += "[" + std::to_string(*index) + "]";
      i = end + 1;
    }
  }
  return out;
}

DynamicFlag parse_dynamic_flag(std::string_view flag) {
  const std::string where = "--dynamic '" + std::string(flag) + "'";
  auto fail = [&](const std::string& problem) -> void {
    PTX_USER_FAIL(ExitCode::kUsage, kDiag) << where << ": " << problem;
  };
  DynamicFlag f;
  f.text = std::string(flag);
  const size_t eq = flag.find('=');
  if (eq == std::string_view::npos) fail(kFlagForms);
  const std::string_view lhs = trim(flag.substr(0, eq));
  const std::string_view rhs = trim(flag.substr(eq + 1));
  if (lhs.empty()) fail("missing a symbol or INPUT.DIM before '='");
  if (rhs.empty()) fail("missing a value after '='; " + std::string(kFlagForms));
  if (rhs.find('=') != std::string_view::npos) fail("more than one '='");

  if (rhs.find(':') != std::string_view::npos) {
    // SYM=[MIN]:[MAX]
    if (!is_identifier(lhs)) {
      const size_t dot = lhs.rfind('.');
      if (dot != std::string_view::npos && parse_int(lhs.substr(dot + 1))) {
        fail("a range belongs to a symbol: write " + std::string(lhs) + "=SYM and SYM=" + std::string(rhs));
      }
      fail("'" + std::string(lhs) + "' is not a valid symbol name (letters, digits and _, not starting with a digit)");
    }
    if (is_reserved(lhs)) fail("'" + std::string(lhs) + "' is a reserved word, not a symbol");
    const size_t colon = rhs.find(':');
    if (rhs.find(':', colon + 1) != std::string_view::npos) fail("expected MIN:MAX with a single ':'");
    f.kind = DynamicFlag::Kind::kRange;
    f.range.name = std::string(lhs);
    auto bound = [&](std::string_view s, const char* which) -> std::optional<int64_t> {
      s = trim(s);
      if (s.empty()) return std::nullopt;
      const auto v = parse_int(s);
      if (!v || *v < 0) fail(std::string(which) + " '" + std::string(s) + "' is not a non-negative integer");
      return v;
    };
    f.range.min = bound(rhs.substr(0, colon), "min");
    f.range.max = bound(rhs.substr(colon + 1), "max");
    if (f.range.min && f.range.max && *f.range.min > *f.range.max) {
      fail("min " + std::to_string(*f.range.min) + " is greater than max " + std::to_string(*f.range.max));
    }
    return f;
  }

  // TARGET=MARK
  const size_t dot = lhs.rfind('.');
  if (dot == std::string_view::npos) {
    if (is_identifier(lhs)) {
      fail("'" + std::string(lhs) + "' has no dimension: write INPUT.DIM (" + std::string(lhs) + ".0=" +
           std::string(rhs) + ") to mark a dimension, or " + std::string(lhs) + "=MIN:MAX for a symbol's range");
    }
    fail(kFlagForms);
  }
  const std::string_view dim_text = trim(lhs.substr(dot + 1));
  const auto dim = parse_int(dim_text);
  if (!dim) fail("dimension '" + std::string(dim_text) + "' is not an integer (INPUT.DIM, e.g. x.0 or x.-1)");
  const auto path = normalize_input_path(trim(lhs.substr(0, dot)));
  if (!path) {
    fail("'" + std::string(lhs.substr(0, dot)) +
         "' is not an input path (NAME, NAME[INDEX] or NAME['KEY'], e.g. x, ys[0], d['k'])");
  }
  f.kind = DynamicFlag::Kind::kMark;
  f.input = *path;
  f.dim = *dim;
  f.mark = parse_dim_mark(rhs, where);
  return f;
}

std::string to_string(const DimMark& m) {
  switch (m.kind) {
    case DimMark::Kind::kStatic: return "static";
    case DimMark::Kind::kAuto: return "auto";
    case DimMark::Kind::kDynamic: return "dynamic";
    case DimMark::Kind::kSymbol: break;
  }
  std::string s = m.a == 1 ? m.symbol : std::to_string(m.a) + "*" + m.symbol;
  if (m.b > 0) s += "+" + std::to_string(m.b);
  if (m.b < 0) s += "-" + std::to_string(uint64_t{0} - static_cast<uint64_t>(m.b));
  return s;
}

std::string to_flag(const SymbolSpec& s) {
  return s.name + "=" + (s.min ? std::to_string(*s.min) : "") + ":" + (s.max ? std::to_string(*s.max) : "");
}

}  // namespace ptx
