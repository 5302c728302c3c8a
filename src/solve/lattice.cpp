// The integer points just under a line, walked as a word of "up" and "right" steps and
// multiplied in a monoid with the universal Euclidean algorithm (O(log) products). The
// monoid keeps the best value of u*x + v*y over the points visited, so the maximum of a
// linear function over {(x, floor((P x + R)/Q))} costs O(log max(P, Q, L)) products
// instead of L evaluations.
#include <stdexcept>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

struct Node {
  Integer dx{0}, dy{0};
  bool has{false};  // at least one point recorded
  Integer best{0};  // best u*x + v*y over recorded points, relative to the node's start
  Integer bx{0}, by{0};
};

struct Walk {
  Integer u, v;

  [[nodiscard]] Node mul(const Node& a, const Node& b) const {
    Node r;
    r.dx = a.dx + b.dx;
    r.dy = a.dy + b.dy;
    r.has = a.has || b.has;
    if (a.has) {
      r.best = a.best;
      r.bx = a.bx;
      r.by = a.by;
    }
    if (b.has) {
      Integer cand = u * a.dx + v * a.dy + b.best;
      if (!a.has || cand > r.best) {  // ties keep the earlier point
        r.best = std::move(cand);
        r.bx = a.dx + b.bx;
        r.by = a.dy + b.by;
      }
    }
    return r;
  }

  [[nodiscard]] Node pow(Node base, Integer n) const {
    Node acc;  // identity
    while (n > 0) {
      if (mpz_odd_p(n.get_mpz_t()) != 0) acc = mul(acc, base);
      n >>= 1;
      if (n > 0) base = mul(base, base);
    }
    return acc;
  }

  // Product over i = 1..L of up^(f(i)-f(i-1)) right, f(i) = floor((P i + R)/Q), 0 <= R < Q.
  [[nodiscard]] Node euclid(const Integer& P, const Integer& Q, const Integer& R, const Integer& L, const Node& up,
                            const Node& right) const {
    if (L == 0) return Node{};
    if (P >= Q) {
      const Integer quot = P / Q;
      const Integer rem = P % Q;
      return euclid(rem, Q, R, L, up, mul(pow(up, quot), right));
    }
    const Integer m = (P * L + R) / Q;
    if (m == 0) return pow(right, L);
    const Integer cnt = L - (Q * m - R - 1) / P;
    const Integer first = (Q - R - 1) / P;
    Node head = mul(pow(right, first), up);
    Node mid = euclid(Q, P, (Q - R - 1) % P, m - 1, right, up);
    return mul(mul(head, mid), pow(right, cnt));
  }
};

}  // namespace

Point2 max_linear_under_line(const Integer& s, const Integer& t, const Integer& a, const Integer& h, const Integer& c,
                             const Integer& u, const Integer& v) {
  if (c <= 0 || s > t) throw std::logic_error("max_linear_under_line: needs c > 0 and s <= t");
  // Walk in the direction in which the line does not decrease.
  const bool forward = a <= 0;
  const Integer x0 = forward ? s : t;
  const Integer slope = forward ? Integer(-a) : a;  // P >= 0
  const Integer du = forward ? u : Integer(-u);     // objective per step
  Integer r_full = h - a * x0;
  Integer q0, r0;
  mpz_fdiv_qr(q0.get_mpz_t(), r0.get_mpz_t(), r_full.get_mpz_t(), c.get_mpz_t());

  Walk walk{du, v};
  Node up;
  up.dy = 1;
  Node right;
  right.dx = 1;
  right.has = true;
  right.best = du;
  right.bx = 1;
  const Node seq = walk.euclid(slope, c, r0, Integer(t - s), up, right);

  Point2 out{x0, q0, u * x0 + v * q0};
  if (seq.has && seq.best > 0) {
    out.x = forward ? Integer(x0 + seq.bx) : Integer(x0 - seq.bx);
    out.y = q0 + seq.by;
    out.value += seq.best;
  }
  return out;
}

}  // namespace lorasplit::detail
