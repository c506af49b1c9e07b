// lib/dim_spec.h: the dynamic-dimension grammar shared by `--dynamic` flags and the `dims` entries
// of inputs.json (docs/inputs.md, "Dynamic dimensions"):
//
//   FLAG   ::= SYM '=' [MIN] ':' [MAX]          range of a named symbol, inclusive; empty = unbounded
//            | TARGET '=' MARK                  how one input dimension is marked
//   TARGET ::= PATH '.' DIM                     DIM an integer; negative counts from the end (x.-1)
//   PATH   ::= NAME ( '[' INT ']' | '[' QUOTED ']' )*   x, ys[0], d['k'], d["k"], t[1][0]
//   MARK   ::= 'auto' | 'dynamic' | 'static' | LIN
//   LIN    ::= [A '*'] SYM [('+' | '-') B]      A > 0, B >= 0: size = A*SYM + B (or A*SYM - B)
//   SYM, NAME ::= [A-Za-z_][A-Za-z0-9_]*        SYM not one of auto, dynamic, static
// Blanks are allowed around the operators of LIN and around MIN and MAX.
//
// Parse errors throw UserError(ExitCode::kUsage, "E_DYNAMIC_SPEC") with the caller's `where` prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/inputs.h"

namespace ptx {

/// One parsed `--dynamic` flag.
struct DynamicFlag {
  enum class Kind : uint8_t { kRange, kMark };
  Kind kind = Kind::kRange;
  std::string text;   // the flag as the user wrote it
  SymbolSpec range;   // kRange
  std::string input;  // kMark: the input path, normalized to the TensorLeaf::path form ("d['k']")
  int64_t dim = 0;    // kMark: as written; negative counts from the end
  DimMark mark;       // kMark
};

/// Parses a MARK ("batch", "2*batch+1", "auto", ...). Errors read "<where>: '<text>': <problem>".
DimMark parse_dim_mark(std::string_view text, const std::string& where);

/// Parses one `--dynamic` value. Errors read "--dynamic '<flag>': <problem>".
DynamicFlag parse_dynamic_flag(std::string_view flag);

/// Normalizes a PATH ("d[\"k\"]" -> "d['k']"); nullopt if it does not follow the PATH grammar.
std::optional<std::string> normalize_input_path(std::string_view path);

/// True for a valid SYM (an identifier that is not a reserved word).
bool is_symbol_name(std::string_view name);

/// The MARK text of `m`: "static", "auto", "dynamic", "batch", "2*batch+1", "batch-1".
std::string to_string(const DimMark& m);

/// The flag form of a range: "batch=1:1024", "batch=:64", "batch=:".
std::string to_flag(const SymbolSpec& s);

}  // namespace ptx
