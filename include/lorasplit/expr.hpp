#pragma once
// Quantities as exact functions of the parameters: sums of monomials c * Π p^e (c an
// exact rational, p a parameter, e a non-zero integer). A description of the work
// (describe.hpp) states every per-token time, fixed time and byte count this way, once;
// the model's rows are sums of them, evaluated exactly (GMP) or in overflow-checked
// 128-bit integers (the fast path), and the simulator evaluates the same expressions.

#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>

#include <string>
#include <utility>
#include <vector>

namespace lorasplit {

/// coef * Π params[id]^exponent, the powers sorted by parameter and non-zero.
struct Monomial {
  Rational coef;
  std::vector<std::pair<ParamId, int>> powers;
  friend bool operator==(const Monomial&, const Monomial&) = default;
};

/// A sum of monomials in a canonical form (like powers merged, zero terms dropped, terms
/// in a fixed order), so equal expressions compare equal.
class Expr {
 public:
  Expr() = default;  ///< 0
  Expr(long constant);  // NOLINT(google-explicit-constructor): small integer constants read naturally
  explicit Expr(Rational constant);
  /// The parameter itself.
  static Expr param(ParamId id);

  [[nodiscard]] bool is_zero() const { return terms_.empty(); }
  [[nodiscard]] const std::vector<Monomial>& terms() const { return terms_; }
  /// The value at `params` (every parameter it reads must be set).
  [[nodiscard]] Rational eval(const Params& params) const;
  /// The parameters it reads, sorted, each once.
  [[nodiscard]] std::vector<ParamId> reads() const;

  friend Expr operator+(const Expr& a, const Expr& b);
  friend Expr operator-(const Expr& a, const Expr& b);
  friend Expr operator-(const Expr& a);
  friend Expr operator*(const Expr& a, const Expr& b);
  /// Division by a single monomial (a product of parameters); anything else is a logic error.
  friend Expr operator/(const Expr& a, const Expr& b);
  Expr& operator+=(const Expr& b) { return *this = *this + b; }
  Expr& operator-=(const Expr& b) { return *this = *this - b; }
  friend bool operator==(const Expr&, const Expr&) = default;

 private:
  void canonicalize();
  std::vector<Monomial> terms_;
};

}  // namespace lorasplit
