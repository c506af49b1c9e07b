// tests/fuzz/fuzz_sym_parse.cpp: the sympy-text parser (shapes/sym_parse.h, used by the .pt2
// reader and --dynamic), through to the canonical SymExpr / SymBool and back to text.
#include <map>
#include <string>

#include "shapes/sym_parse.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ptx::fuzz::expect_user_error_or_success([&] {
    const ptx::shapes::SymAst ast = ptx::shapes::parse_sym(text);
    (void)ast.str();
  });
  ptx::fuzz::expect_user_error_or_success([&] {
    std::map<std::string, ptx::shapes::SymExpr> table;
    const ptx::shapes::SymExpr e = ptx::shapes::parse_sym(text, ptx::shapes::fresh_symbols(table));
    (void)ptx::shapes::parse_sym(e.str(), ptx::shapes::fresh_symbols(table));
  });
  ptx::fuzz::expect_user_error_or_success([&] {
    std::map<std::string, ptx::shapes::SymExpr> table;
    (void)ptx::shapes::parse_sym_bool(text, ptx::shapes::fresh_symbols(table)).str();
  });
  return 0;
}
