// ir/parser_literals.cpp: the tokens of a line (Lexer::tokenize: names, numbers, strings,
// punctuation) and the literals of call arguments (None, bools, numbers, strings, lists, dtypes,
// layouts, memory formats, devices) turned into ArgValues by the schema's types. See
// ir/parser_impl.h.
#include <ATen/core/dispatch/Dispatcher.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ir/parser_impl.h"
#include "ir/printer.h"
#include "shapes/error.h"

namespace ptx::ir::parser {

// ---- tokens ----------------------------------------------------------------------------------------

void Lexer::tokenize() {
  const std::string& s = line_.text;
  size_t p = 0;
  auto is_name_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto is_name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (p < s.size()) {
    const char c = s[p];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++p;
      continue;
    }
    Token t;
    if (is_name_start(c)) {
      size_t e = p;
      for (;;) {
        while (e < s.size() && is_name_char(s[e])) ++e;
        if (e + 1 < s.size() && s[e] == '.' && is_name_start(s[e + 1])) {
          ++e;
          continue;
        }
        break;
      }
      t.kind = Token::Kind::kName;
      t.text = s.substr(p, e - p);
      p = e;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t e = p;
      bool is_float = false;
      while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
      if (e < s.size() && s[e] == '.') {
        is_float = true;
        ++e;
        while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
      }
      if (e < s.size() && (s[e] == 'e' || s[e] == 'E')) {
        size_t x = e + 1;
        if (x < s.size() && (s[x] == '+' || s[x] == '-')) ++x;
        if (x < s.size() && std::isdigit(static_cast<unsigned char>(s[x]))) {
          is_float = true;
          e = x;
          while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
        }
      }
      t.text = s.substr(p, e - p);
      if (is_float) {
        t.kind = Token::Kind::kFloat;
        t.f = std::strtod(t.text.c_str(), nullptr);
      } else {
        t.kind = Token::Kind::kInt;
        auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.i);
        (void)ptr;
        if (ec != std::errc()) fail(line_.number, "integer " + t.text + " out of range");
      }
      p = e;
    } else if (c == '\'' || c == '"') {
      t.kind = Token::Kind::kString;
      size_t e = p + 1;
      for (;;) {
        if (e >= s.size()) fail(line_.number, "unterminated string in: " + s);
        const char d = s[e];
        if (d == c) break;
        if (d == '\\' && e + 1 < s.size()) {
          const char x = s[e + 1];
          e += 2;
          switch (x) {
            case 'n':
              t.text += '\n';
              break;
            case 'r':
              t.text += '\r';
              break;
            case 't':
              t.text += '\t';
              break;
            case 'x': {
              if (e + 2 > s.size()) fail(line_.number, "bad \\x escape in: " + s);
              t.text += static_cast<char>(std::stoi(s.substr(e, 2), nullptr, 16));
              e += 2;
              break;
            }
            default:
              t.text += x;  // \\ \' \"
          }
          continue;
        }
        t.text += d;
        ++e;
      }
      p = e + 1;
    } else {
      static const char* kPuncts[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", ",", ":", "=",
                                      ";",  "+",  "-",  "*",  "%",  "<",  ">", "~", "&", "|", "^", "/", "@", "{", "}"};
      for (const char* q : kPuncts) {
        if (s.compare(p, std::strlen(q), q) == 0) {
          t.kind = Token::Kind::kPunct;
          t.text = q;
          break;
        }
      }
      if (t.kind != Token::Kind::kPunct) {
        fail(line_.number, "unexpected character '" + std::string(1, c) + "' in: " + s);
      }
      p += t.text.size();
    }
    toks_.push_back(std::move(t));
  }
  toks_.push_back(Token{});
}

// ---- literals --------------------------------------------------------------------------------------

namespace {

int index_of(const char* const* names, size_t count, const std::string& text) {
  for (size_t k = 0; k < count; ++k) {
    if (text == names[k]) return static_cast<int>(k);
  }
  return -1;
}

}  // namespace

Lit GraphParser::parse_literal(Lexer& lx) {
  Lit l;
  const Token t = lx.peek();
  if (t.kind == Token::Kind::kPunct && t.text == "-") {
    lx.next();
    const Token n = lx.next();
    if (n.kind == Token::Kind::kInt) {
      l.kind = Lit::Kind::kInt;
      l.i = -n.i;
    } else if (n.kind == Token::Kind::kFloat) {
      l.kind = Lit::Kind::kFloat;
      l.f = -n.f;
    } else if (n.kind == Token::Kind::kName && n.text == "inf") {
      l.kind = Lit::Kind::kFloat;
      l.f = -std::numeric_limits<double>::infinity();
    } else {
      fail(lx.line(), "expected a number after '-' in: " + lx.text());
    }
    return l;
  }
  if (t.kind == Token::Kind::kPunct && t.text == "[") {
    lx.next();
    l.kind = Lit::Kind::kList;
    bool first = true;
    while (!lx.accept("]")) {
      if (!first) lx.expect(",");
      if (lx.accept("]")) break;
      first = false;
      l.items.push_back(parse_literal(lx));
    }
    return l;
  }
  lx.next();
  switch (t.kind) {
    case Token::Kind::kInt:
      l.kind = Lit::Kind::kInt;
      l.i = t.i;
      return l;
    case Token::Kind::kFloat:
      l.kind = Lit::Kind::kFloat;
      l.f = t.f;
      return l;
    case Token::Kind::kString:
      l.kind = Lit::Kind::kString;
      l.s = t.text;
      return l;
    case Token::Kind::kName:
      break;
    default:
      fail(lx.line(), "expected an argument, got '" + t.text + "' in: " + lx.text());
  }
  const std::string& n = t.text;
  if (n == "None") return l;
  if (n == "True" || n == "False") {
    l.kind = Lit::Kind::kBool;
    l.b = n == "True";
    return l;
  }
  if (n == "inf" || n == "nan") {
    l.kind = Lit::Kind::kFloat;
    l.f = n == "inf" ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    return l;
  }
  if (n == "device" && lx.at_punct("(")) {
    lx.next();
    l.kind = Lit::Kind::kDevice;
    std::string type, index;
    while (!lx.accept(")")) {
      const std::string key = lx.expect_name();
      lx.expect("=");
      const Token v = lx.next();
      if (key == "type" && v.kind == Token::Kind::kString) {
        type = v.text;
      } else if (key == "index" && v.kind == Token::Kind::kInt) {
        index = std::to_string(v.i);
      } else {
        fail(lx.line(), "bad device(...) in: " + lx.text());
      }
      lx.accept(",");
    }
    if (type.empty()) fail(lx.line(), "device(...) without a type in: " + lx.text());
    l.s = index.empty() ? type : type + ":" + index;
    return l;
  }
  if (n.rfind("torch.", 0) == 0) {
    const std::string rest = n.substr(6);
    if (auto d = dtype_from_name(rest)) {
      l.kind = Lit::Kind::kDType;
      l.i = static_cast<int64_t>(*d);
      return l;
    }
    for (int k = 0; k < 8; ++k) {
      if (n == layout_text(k)) {
        l.kind = Lit::Kind::kLayout;
        l.i = k;
        return l;
      }
    }
    for (int k = 0; k < 4; ++k) {
      if (n == memory_format_text(k)) {
        l.kind = Lit::Kind::kMemoryFormat;
        l.i = k;
        return l;
      }
    }
    fail(lx.line(), "unknown constant '" + n + "' in: " + lx.text());
  }
  l.kind = Lit::Kind::kValue;
  l.v = value(lx, n);
  return l;
}

ArgValue GraphParser::literal_to_arg(const Line& line, const Lit& l, const c10::TypePtr* type) {
  switch (l.kind) {
    case Lit::Kind::kNone:
      return NoneArg{};
    case Lit::Kind::kBool:
      return l.b;
    case Lit::Kind::kInt:
      return l.i;
    case Lit::Kind::kFloat:
      return l.f;
    case Lit::Kind::kString:
      return l.s;
    case Lit::Kind::kValue:
      return l.v;
    case Lit::Kind::kDType:
      return DTypeArg{static_cast<DType>(l.i)};
    case Lit::Kind::kLayout:
      return LayoutArg{static_cast<int>(l.i)};
    case Lit::Kind::kMemoryFormat:
      return MemoryFormatArg{static_cast<int>(l.i)};
    case Lit::Kind::kDevice:
      return DeviceArg{l.s};
    case Lit::Kind::kList:
      break;
  }
  if (type == nullptr) fail(line.number, "a list argument needs an operator schema");
  c10::TypePtr t = *type;
  if (auto opt = t->cast<c10::OptionalType>()) t = opt->getElementType();
  if (t->kind() != c10::TypeKind::ListType) fail(line.number, "a list given for a " + t->str() + " argument");
  c10::TypePtr elem = t->castRaw<c10::ListType>()->getElementType();
  auto bad = [&](const Lit& item) {
    (void)item;
    fail(line.number, "bad element in a " + t->str() + " argument: " + line.text);
  };
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      std::vector<SymIntArg> out;
      for (const Lit& item : l.items) {
        if (item.kind == Lit::Kind::kInt) {
          out.emplace_back(item.i);
        } else if (item.kind == Lit::Kind::kValue) {
          out.emplace_back(item.v);
        } else {
          bad(item);
        }
      }
      return out;
    }
    case c10::TypeKind::TensorType: {
      std::vector<Value*> out;
      for (const Lit& item : l.items) {
        if (item.kind != Lit::Kind::kValue) bad(item);
        out.push_back(item.v);
      }
      return out;
    }
    case c10::TypeKind::OptionalType: {
      std::vector<std::optional<Value*>> out;
      for (const Lit& item : l.items) {
        if (item.kind == Lit::Kind::kNone) {
          out.emplace_back(std::nullopt);
        } else if (item.kind == Lit::Kind::kValue) {
          out.emplace_back(item.v);
        } else {
          bad(item);
        }
      }
      return out;
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> out;
      for (const Lit& item : l.items) {
        if (item.kind == Lit::Kind::kFloat) {
          out.push_back(item.f);
        } else if (item.kind == Lit::Kind::kInt) {
          out.push_back(static_cast<double>(item.i));
        } else {
          bad(item);
        }
      }
      return out;
    }
    case c10::TypeKind::BoolType: {
      std::vector<bool> out;
      for (const Lit& item : l.items) {
        if (item.kind != Lit::Kind::kBool) bad(item);
        out.push_back(item.b);
      }
      return out;
    }
    default:
      fail(line.number, "list arguments of type " + t->str() + " are not supported");
  }
}

}  // namespace ptx::ir::parser
