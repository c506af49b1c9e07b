// tests/custom_ops/test_ops.cpp: a small operator library for tests/e2e/test_custom_ops.py, built
// twice (tests/CMakeLists.txt): libptx_test_ops_meta.so registers its ops in namespace ptx_meta
// with CPU and Meta kernels, libptx_test_ops_nometa.so in namespace ptx_nometa with CPU kernels only.
//
//   pad_rows(Tensor x, int n) -> Tensor      x with n rows of zeros appended (sizes [x0 + n, x1...])
//   halve_cols(Tensor x) -> Tensor           every other column of a 2-d x (sizes [x0, (x1 + 1)//2])
#include <ATen/ATen.h>
#include <torch/library.h>

#ifndef PTX_NS
#error "PTX_NS (the op namespace) must be defined"
#endif

namespace {

at::Tensor pad_rows(const at::Tensor& x, int64_t n) {
  TORCH_CHECK(n >= 0, "pad_rows: n must be >= 0, got ", n);
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes[0] = n;
  return at::cat({x, at::zeros(sizes, x.options())}, 0);
}

at::Tensor halve_cols(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "halve_cols: x must be 2-d");
  return x.slice(1, 0, x.size(1), 2).contiguous();
}

#ifdef PTX_WITH_META
at::Tensor pad_rows_meta(const at::Tensor& x, int64_t n) {
  TORCH_CHECK(n >= 0, "pad_rows: n must be >= 0, got ", n);
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes[0] += n;
  return at::empty(sizes, x.options());
}

at::Tensor halve_cols_meta(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "halve_cols: x must be 2-d");
  return at::empty({x.size(0), (x.size(1) + 1) / 2}, x.options());
}
#endif

}  // namespace

TORCH_LIBRARY(PTX_NS, m) {
  m.def("pad_rows(Tensor x, int n) -> Tensor");
  m.def("halve_cols(Tensor x) -> Tensor");
}

TORCH_LIBRARY_IMPL(PTX_NS, CPU, m) {
  m.impl("pad_rows", &pad_rows);
  m.impl("halve_cols", &halve_cols);
}

#ifdef PTX_WITH_META
TORCH_LIBRARY_IMPL(PTX_NS, Meta, m) {
  m.impl("pad_rows", &pad_rows_meta);
  m.impl("halve_cols", &halve_cols_meta);
}
#endif
