// shapes/rules/rnn.cpp: lstm, gru, rnn_tanh, rnn_relu (padded .input and packed .data overloads).
//
//   lstm.input(input, hx[2], params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
//       -> (output, h_n, c_n)
//   lstm.data(data, batch_sizes, hx[2], params, has_biases, num_layers, dropout, train, bidirectional)
//   gru/rnn_*.input(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
//       -> (output, h_n)
//   gru/rnn_*.data(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
// output: [T, N, D*H_out] ([N, T, D*H_out] with batch_first; [sum(batch_sizes), D*H_out] packed),
// where D = 2 if bidirectional and H_out = hx[0].size(-1) (proj_size for a projected LSTM);
// h_n / c_n have hx's shapes.
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
Shapes rnn_shapes(RuleContext& ctx, Args args, bool lstm) {
  const SymShape& input = tensor(args, 0, "input");
  // Packed (.data) overloads have batch_sizes (a tensor) at 1 and hx at 2.
  const bool packed = lstm ? (has(args, 1) && args[1].kind == RuleArg::Kind::kTensor)
                           : (has(args, 2) && args[2].kind == RuleArg::Kind::kTensor);
  const size_t hx_index = packed ? 2 : 1;
  const size_t first_flag = packed ? 4 : 3;  // has_biases
  std::vector<SymShape> hx;
  if (lstm) {
    for (const auto& s : tensor_list(args, hx_index, "hx")) {
      if (!s) fail("lstm hx element is None");
      hx.push_back(*s);
    }
    if (hx.size() != 2) fail("lstm expects two hidden states");
  } else {
    hx.push_back(tensor(args, hx_index, "hx"));
  }
  for (const SymShape& h : hx) {
    if (h.size() != 3) fail("rnn hidden state must be 3-D, got " + str(h));
  }
  const int64_t layers = const_int(ctx, args, first_flag + 1, "num_layers");
  const bool bidirectional = bool_arg(args, first_flag + 4, false, "bidirectional");
  const int64_t d = bidirectional ? 2 : 1;
  const SymExpr h_out = hx[0][2];
  for (const SymShape& h : hx) {
    require_eq(ctx, h[0], SymExpr(d * layers), "rnn: hidden state must have num_layers * num_directions rows",
               "rnn hidden state " + str(h) + " does not match num_layers * num_directions = " + std::to_string(d * layers));
  }
  SymShape out;
  if (packed) {
    if (input.size() != 2) fail("packed rnn input must be 2-D, got " + str(input));
    out = {input[0], h_out * d};
  } else {
    if (input.size() != 3) fail("rnn input must be 3-D, got " + str(input));
    const bool batch_first = bool_arg(args, first_flag + 5, false, "batch_first");
    const SymExpr batch = input[batch_first ? 0 : 1];
    for (const SymShape& h : hx) {
      require_eq(ctx, h[1], batch, "rnn: hidden state batch must match the input",
                 "rnn hidden state " + str(h) + " does not match the input batch " + batch.str());
    }
    out = {input[0], input[1], h_out * d};  // [T, N, .] or [N, T, .]: the input's layout
  }
  Shapes r{out};
  for (const SymShape& h : hx) r.push_back(h);
  return r;
}
}  // namespace

Shapes lstm(RuleContext& ctx, Args args) { return rnn_shapes(ctx, args, true); }
Shapes gru(RuleContext& ctx, Args args) { return rnn_shapes(ctx, args, false); }

}  // namespace ptx::shapes::rules
