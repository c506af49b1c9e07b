// cmd/fixes.h: the suggested fixes of a failed check in the command line's terms: each fix as
// `--dynamic` flags, the user's flags each fix replaces, and the user's whole command line with the
// fixes applied (docs/cli.md, "Suggested fixes"). shapes/ suggests fixes as typed values and knows
// no flag; this is where they meet the command line.
//
// Applying a fix is what a user does to torch's dynamic_shapes: a suggested `--dynamic LHS=RHS`
// replaces the user's flags with the same left side (the same symbol, or the same input dimension,
// `x.-2` and `x.0` alike), and a range flag whose symbol no input dimension uses once every fix is
// applied goes too (kept, it would be a usage error, exit 2): it belongs to the fix that changed the
// dimensions that used it. A fix that replaces nothing is added after the user's last `--dynamic`.
#pragma once

#include <string>
#include <vector>

#include "lib/inputs.h"
#include "shapes/checker.h"

namespace ptx::cmd {

/// "x.size()[0]" -> "x.0" (the --dynamic TARGET syntax); other text is returned unchanged.
std::string source_to_target(const std::string& source);

/// The values of the --dynamic flags of a fix: {"batch=5:1024"}, {"y.0=batch"},
/// {"x.0=static", "y.0=static"} (one per input dim of the symbol).
std::vector<std::string> flag_values(const shapes::Suggestion& s);

/// A fix as --dynamic flags: "--dynamic batch=5:1024", "--dynamic x.0=static --dynamic y.0=static".
std::string flag_form(const shapes::Suggestion& s);

/// The suggestions of a check applied to the user's command line.
struct AppliedFixes {
  /// Per suggestion (in the check's order): the user's --dynamic flags it replaces, as flags
  /// ("--dynamic batch=1:1024"); empty when the fix only adds flags.
  std::vector<std::vector<std::string>> replaces;
  /// The user's argv (program first) with the replaced flags swapped for the fixes; empty when the
  /// command line is not known (an in-process caller) or its --dynamic flags cannot be found in it.
  std::vector<std::string> argv;
};

/// Applies `suggestions` to the user's `dynamic` flags (as given, in order) and to `argv` (the
/// whole command line, program first; may be empty). `leaves` are the inputs as loaded (their marks
/// after the flags): which symbols each input dimension uses, and each input's rank (for x.-1).
AppliedFixes apply_fixes(const std::vector<shapes::Suggestion>& suggestions, const std::vector<std::string>& dynamic,
                         const std::vector<std::string>& argv, const std::vector<TensorLeaf>& leaves);

/// `word` quoted for a POSIX shell when it needs to be ('x.0=2*_n' , 'a b', 'it'\''s').
std::string shell_quote(const std::string& word);

/// The words shell-quoted and joined by spaces: one line a shell runs as `argv`.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace ptx::cmd
