// The integer points just under a line, walked as a word of "up" and "right" steps and
// multiplied in a monoid with the universal Euclidean algorithm (O(log) products). The
// monoid keeps the best value of u*x + v*y over the points visited, so the maximum of a
// linear function over {(x, floor((P x + R)/Q))} costs O(log max(P, Q, L)) products
// instead of L evaluations.
#include <stdexcept>
#include <vector>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

using walk_detail::Node;

// The Euclid-like recursion depends only on the line and the interval, not on the
// objective, so it is recorded once as a straight-line program of monoid products
// (node 0 = "up", node 1 = "right", op i makes node i + 2) and evaluated for each
// objective of the Dinkelbach iterations.
template <class I>
struct Recorder {
  std::vector<typename LinePlan<I>::Op>& ops;

  int mul(int a, int b) {
    if (a < 0) return b;  // -1 is the identity
    if (b < 0) return a;
    ops.push_back({false, a, b, I(0)});
    return static_cast<int>(ops.size()) + 1;
  }
  int pow(int a, const I& n) {
    if (a < 0 || n == 0) return -1;
    if (n == 1) return a;
    ops.push_back({true, a, -1, n});
    return static_cast<int>(ops.size()) + 1;
  }
  // Product over i = 1..L of up^(f(i)-f(i-1)) right, f(i) = floor((P i + R)/Q), 0 <= R < Q.
  int euclid(const I& P, const I& Q, const I& R, const I& L, int up, int right) {
    if (L == 0) return -1;
    if (P >= Q) {
      const I quot = P / Q;
      const I rem = P % Q;
      return euclid(rem, Q, R, L, up, mul(pow(up, quot), right));
    }
    const I m = (P * L + R) / Q;
    if (m == 0) return pow(right, L);
    const I cnt = L - (Q * m - R - 1) / P;
    const I first = (Q - R - 1) / P;
    const int head = mul(pow(right, first), up);
    const int mid = euclid(Q, P, (Q - R - 1) % P, m - 1, right, up);
    return mul(mul(head, mid), pow(right, cnt));
  }
};

template <class I>
struct Walk {
  I u, v;

  // r = a * b (r is neither a nor b; written in place, no temporaries).
  void mul(const Node<I>& a, const Node<I>& b, Node<I>& r) const {
    r.dx = a.dx + b.dx;
    r.dy = a.dy + b.dy;
    r.has = a.has || b.has;
    if (a.has) {
      r.best = a.best;
      r.bx = a.bx;
      r.by = a.by;
    }
    if (b.has) {
      I cand = u * a.dx + v * a.dy + b.best;
      if (!a.has || cand > r.best) {  // ties keep the earlier point
        r.best = std::move(cand);
        r.bx = a.dx + b.bx;
        r.by = a.dy + b.by;
      }
    }
  }

  // r = base^n in closed form (n >= 2): the copies' best values form an arithmetic
  // progression with step u*dx + v*dy, so the earliest maximiser is the first copy
  // (step <= 0) or the last (step > 0); the same node as n-1 products, by associativity.
  void pow(const Node<I>& base, const I& n, Node<I>& r) const {
    r.dx = base.dx * n;
    r.dy = base.dy * n;
    r.has = base.has;
    if (!base.has) return;
    r.best = base.best;
    r.bx = base.bx;
    r.by = base.by;
    const I step = u * base.dx + v * base.dy;
    if (step > 0) {
      const I m = n - 1;
      r.best += step * m;
      r.bx += base.dx * m;
      r.by += base.dy * m;
    }
  }
};

}  // namespace

template <class I>
void LinePlan<I>::assign(const I& s, const I& t, const I& a, const I& h, const I& c) {
  if (c <= 0 || s > t) throw std::logic_error("max_linear_under_line: needs c > 0 and s <= t");
  ops_.clear();
  // Walk in the direction in which the line does not decrease.
  forward_ = a <= 0;
  x0_ = forward_ ? s : t;
  const I slope = forward_ ? I(-a) : a;  // P >= 0
  const I r_full = h - a * x0_;
  I r0;
  fdiv_qr(q0_, r0, r_full, c);
  Recorder<I> rec{ops_};
  root_ = rec.euclid(slope, c, r0, I(t - s), 0, 1);
}

template <class I>
BasicPoint2<I> LinePlan<I>::eval(const I& u, const I& v) const {
  const I du = forward_ ? u : I(-u);  // objective per step
  const Walk<I> walk{du, v};
  nodes_.resize(ops_.size() + 2);
  nodes_[0] = Node<I>{};
  nodes_[0].dy = 1;
  nodes_[1] = Node<I>{};
  nodes_[1].dx = 1;
  nodes_[1].has = true;
  nodes_[1].best = du;
  nodes_[1].bx = 1;
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    const auto a = static_cast<std::size_t>(op.a);
    if (op.pow) {
      walk.pow(nodes_[a], op.n, nodes_[i + 2]);
    } else {
      walk.mul(nodes_[a], nodes_[static_cast<std::size_t>(op.b)], nodes_[i + 2]);
    }
  }
  BasicPoint2<I> out{x0_, q0_, u * x0_ + v * q0_};
  if (root_ < 0) return out;
  const Node<I>& seq = nodes_[static_cast<std::size_t>(root_)];
  if (seq.has && seq.best > 0) {
    out.x = forward_ ? I(x0_ + seq.bx) : I(x0_ - seq.bx);
    out.y = q0_ + seq.by;
    out.value += seq.best;
  }
  return out;
}

template <class I>
BasicPoint2<I> max_linear_under_line(const I& s, const I& t, const I& a, const I& h, const I& c, const I& u,
                                     const I& v) {
  return LinePlan<I>(s, t, a, h, c).eval(u, v);
}

template class LinePlan<Integer>;
template class LinePlan<Int128>;
template BasicPoint2<Integer> max_linear_under_line(const Integer&, const Integer&, const Integer&, const Integer&,
                                                    const Integer&, const Integer&, const Integer&);
template BasicPoint2<Int128> max_linear_under_line(const Int128&, const Int128&, const Int128&, const Int128&,
                                                   const Int128&, const Int128&, const Int128&);

}  // namespace lorasplit::detail
