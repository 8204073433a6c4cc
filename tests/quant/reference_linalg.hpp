// Plain double-precision helpers for the brute-force GPTQ / SparseGPT references in the
// tests: row-major dense matrices, Cholesky, inverse, the upper factor of an inverse,
// and conversions from/to at::Tensor. Written for clarity on small sizes only.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace dcomp::quant::testing {

/// Dense row-major matrix of doubles.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> data;

  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), data(static_cast<size_t>(r * c), 0.0) {}
  double& operator()(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  double operator()(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
};

inline Matrix to_matrix(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  Matrix m(d.size(0), d.size(1));
  const double* p = d.data_ptr<double>();
  m.data.assign(p, p + d.numel());
  return m;
}

inline at::Tensor to_tensor(const Matrix& m) {
  at::Tensor t = at::empty({m.rows, m.cols}, at::kDouble);
  std::copy(m.data.begin(), m.data.end(), t.data_ptr<double>());
  return t;
}

/// Lower-triangular L with L Lᵀ = a; returns false when a is not positive definite.
inline bool cholesky_lower(const Matrix& a, Matrix& lower) {
  const int64_t n = a.rows;
  lower = Matrix(n, n);
  for (int64_t j = 0; j < n; ++j) {
    double diag = a(j, j);
    for (int64_t k = 0; k < j; ++k) diag -= lower(j, k) * lower(j, k);
    if (!(diag > 0.0)) return false;
    lower(j, j) = std::sqrt(diag);
    for (int64_t i = j + 1; i < n; ++i) {
      double v = a(i, j);
      for (int64_t k = 0; k < j; ++k) v -= lower(i, k) * lower(j, k);
      lower(i, j) = v / lower(j, j);
    }
  }
  return true;
}

/// a⁻¹ from its Cholesky factor, by solving L Lᵀ x = e_k column by column.
inline Matrix inverse_from_cholesky(const Matrix& lower) {
  const int64_t n = lower.rows;
  Matrix inverse(n, n);
  std::vector<double> y(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    for (int64_t i = 0; i < n; ++i) {  // L y = e_k
      double v = (i == k) ? 1.0 : 0.0;
      for (int64_t j = 0; j < i; ++j) v -= lower(i, j) * y[static_cast<size_t>(j)];
      y[static_cast<size_t>(i)] = v / lower(i, i);
    }
    for (int64_t i = n - 1; i >= 0; --i) {  // Lᵀ x = y
      double v = y[static_cast<size_t>(i)];
      for (int64_t j = i + 1; j < n; ++j) v -= lower(j, i) * inverse(j, k);
      inverse(i, k) = v / lower(i, i);
    }
  }
  return inverse;
}

/// Upper U with UᵀU = (h + damping·I)⁻¹ (the GPTQ "Hinv"), or throws when not positive definite.
inline Matrix upper_factor_of_damped_inverse(Matrix h, double damping) {
  for (int64_t i = 0; i < h.rows; ++i) h(i, i) += damping;
  Matrix lower;
  if (!cholesky_lower(h, lower)) throw std::runtime_error("reference: damped Hessian is not positive definite");
  const Matrix inverse = inverse_from_cholesky(lower);
  Matrix inverse_lower;
  if (!cholesky_lower(inverse, inverse_lower)) throw std::runtime_error("reference: inverse is not positive definite");
  Matrix upper(h.rows, h.cols);
  for (int64_t i = 0; i < h.rows; ++i) {
    for (int64_t j = 0; j < h.cols; ++j) upper(i, j) = inverse_lower(j, i);
  }
  return upper;
}

/// Marks inputs with a zero Hessian diagonal: diag set to 1 there, their weight columns zeroed.
inline std::vector<bool> mask_dead(Matrix& h, Matrix& w) {
  std::vector<bool> dead(static_cast<size_t>(h.rows), false);
  for (int64_t i = 0; i < h.rows; ++i) {
    if (h(i, i) == 0.0) {
      dead[static_cast<size_t>(i)] = true;
      h(i, i) = 1.0;
      for (int64_t r = 0; r < w.rows; ++r) w(r, i) = 0.0;
    }
  }
  return dead;
}

/// λ = frac · mean(diag h).
inline double damping_of(const Matrix& h, double frac) {
  double sum = 0.0;
  for (int64_t i = 0; i < h.rows; ++i) sum += h(i, i);
  return frac * sum / static_cast<double>(h.rows);
}

/// ‖(a − b) xᵀ‖_F for a, b [out, in] and x [tokens, in], in double.
inline double output_error(const at::Tensor& a, const at::Tensor& b, const at::Tensor& x) {
  return at::mm(a.to(at::kDouble) - b.to(at::kDouble), x.to(at::kDouble).t()).norm().item<double>();
}

/// Inputs with correlated channels and uneven scales: x [tokens, in] = z·mix, fp32.
inline at::Tensor correlated_inputs(int64_t tokens, int64_t in, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor z = at::randn({tokens, in}, gen, at::kFloat);
  at::Tensor mix = at::randn({in, in}, gen, at::kFloat) * 0.3 + at::eye(in, at::kFloat);
  const at::Tensor channel_scale = at::linspace(0.2, 3.0, in, at::kFloat);
  return at::mm(z, mix) * channel_scale;
}

/// H = (2 / tokens) · xᵀx in fp32 for x [tokens, in].
inline at::Tensor hessian_of(const at::Tensor& x) {
  return at::mm(x.t(), x) * (2.0 / static_cast<double>(x.size(0)));
}

}  // namespace dcomp::quant::testing
