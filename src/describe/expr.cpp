#include <lorasplit/expr.hpp>

#include <algorithm>
#include <stdexcept>

namespace lorasplit {

Expr::Expr(long constant) {
  if (constant != 0) terms_.push_back({Rational(constant), {}});
}

Expr::Expr(Rational constant) {
  constant.canonicalize();
  if (constant != 0) terms_.push_back({std::move(constant), {}});
}

Expr Expr::param(ParamId id) {
  Expr e;
  e.terms_.push_back({Rational(1), {{id, 1}}});
  return e;
}

void Expr::canonicalize() {
  std::sort(terms_.begin(), terms_.end(),
            [](const Monomial& a, const Monomial& b) { return a.powers < b.powers; });
  std::vector<Monomial> out;
  for (auto& t : terms_) {
    if (!out.empty() && out.back().powers == t.powers) {
      out.back().coef += t.coef;
    } else {
      out.push_back(std::move(t));
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const Monomial& m) { return m.coef == 0; }), out.end());
  terms_ = std::move(out);
}

Expr operator+(const Expr& a, const Expr& b) {
  Expr out = a;
  out.terms_.insert(out.terms_.end(), b.terms_.begin(), b.terms_.end());
  out.canonicalize();
  return out;
}

Expr operator-(const Expr& a) {
  Expr out = a;
  for (auto& t : out.terms_) t.coef = -t.coef;
  return out;
}

Expr operator-(const Expr& a, const Expr& b) { return a + (-b); }

namespace {
std::vector<std::pair<ParamId, int>> multiply(const std::vector<std::pair<ParamId, int>>& x,
                                              const std::vector<std::pair<ParamId, int>>& y, int sign) {
  std::vector<std::pair<ParamId, int>> out = x;
  for (const auto& [id, e] : y) {
    auto it = std::find_if(out.begin(), out.end(), [id = id](const auto& p) { return p.first == id; });
    if (it == out.end()) {
      out.emplace_back(id, sign * e);
    } else {
      it->second += sign * e;
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& p) { return p.second == 0; }), out.end());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

Expr operator*(const Expr& a, const Expr& b) {
  Expr out;
  for (const auto& x : a.terms_) {
    for (const auto& y : b.terms_) out.terms_.push_back({Rational(x.coef * y.coef), multiply(x.powers, y.powers, 1)});
  }
  out.canonicalize();
  return out;
}

Expr operator/(const Expr& a, const Expr& b) {
  if (b.terms_.size() != 1) throw std::logic_error("Expr: division by a sum");
  const Monomial& d = b.terms_.front();
  Expr out;
  for (const auto& x : a.terms_) out.terms_.push_back({Rational(x.coef / d.coef), multiply(x.powers, d.powers, -1)});
  out.canonicalize();
  return out;
}

Rational Expr::eval(const Params& params) const {
  Rational sum = 0;
  for (const auto& t : terms_) {
    Rational v = t.coef;
    for (const auto& [id, e] : t.powers) {
      const Rational& p = params.get(id);
      for (int i = 0; i < (e < 0 ? -e : e); ++i) {
        if (e > 0) {
          v *= p;
        } else {
          v /= p;
        }
      }
    }
    sum += v;
  }
  return sum;
}

std::vector<ParamId> Expr::reads() const {
  std::vector<ParamId> out;
  for (const auto& t : terms_) {
    for (const auto& [id, e] : t.powers) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lorasplit
