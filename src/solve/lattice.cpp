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

// The Euclid-like recursion depends only on the line and the interval, not on the
// objective, so it is recorded once as a straight-line program of monoid products
// (node 0 = "up", node 1 = "right", op i makes node i + 2) and evaluated for each
// objective of the Dinkelbach iterations.
// Each node's displacement (dx, dy) and whether it visits a point are recorded with it.
template <class I>
struct Recorder {
  std::vector<typename LinePlan<I>::Op>& ops;
  std::vector<I>& dx;
  std::vector<I>& dy;
  std::vector<char>& has;

  int mul(int a, int b) {
    if (a < 0) return b;  // -1 is the identity
    if (b < 0) return a;
    ops.push_back({false, a, b, I(0)});
    const auto l = static_cast<std::size_t>(a), r = static_cast<std::size_t>(b);
    dx.push_back(dx[l] + dx[r]);
    dy.push_back(dy[l] + dy[r]);
    has.push_back(static_cast<char>(has[l] != 0 || has[r] != 0));
    return static_cast<int>(ops.size()) + 1;
  }
  int pow(int a, const I& n) {
    if (a < 0 || n == 0) return -1;
    if (n == 1) return a;
    ops.push_back({true, a, -1, n});
    const auto l = static_cast<std::size_t>(a);
    dx.push_back(dx[l] * n);
    dy.push_back(dy[l] * n);
    has.push_back(has[l]);
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

}  // namespace

// Where a node's best point comes from: its left factor, its right factor (after the
// left's displacement), or, for a power, its first or last copy.
enum From : char { kLeft, kRight, kFirstCopy, kLastCopy };

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
  // Node 0 is "up" (displacement (0, 1), no point), node 1 "right" ((1, 0), its point).
  dx_.assign({I(0), I(1)});
  dy_.assign({I(1), I(0)});
  has_.assign({0, 1});
  Recorder<I> rec{ops_, dx_, dy_, has_};
  root_ = rec.euclid(slope, c, r0, I(t - s), 0, 1);
}

template <class I>
BasicPoint2<I> LinePlan<I>::eval(const I& u, const I& v) const {
  const I du = forward_ ? u : I(-u);  // objective per step right
  const std::size_t n = ops_.size() + 2;
  val_.resize(n);
  best_.resize(n);
  from_.resize(n);
  val_[0] = v;   // "up"
  val_[1] = du;  // "right", whose one point (1, 0) is its best
  best_[1] = du;
  I cand;
  // The monoid's products, values only: the best over a product is the left factor's best
  // or the left's total plus the right's best (ties keep the earlier point); over a power
  // the copies' bests form an arithmetic progression, so it is the first or the last copy.
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    const std::size_t r = i + 2;
    const auto l = static_cast<std::size_t>(op.a);
    if (op.pow) {
      val_[r] = val_[l] * op.n;
      if (has_[l] == 0) continue;
      best_[r] = best_[l];
      from_[r] = kFirstCopy;
      if (val_[l] > 0) {
        cand = op.n - 1;
        cand *= val_[l];
        best_[r] += cand;
        from_[r] = kLastCopy;
      }
    } else {
      const auto rt = static_cast<std::size_t>(op.b);
      if (has_[l] != 0) {
        best_[r] = best_[l];
        from_[r] = kLeft;
      }
      if (has_[rt] != 0) {
        cand = val_[l];
        cand += best_[rt];
        if (has_[l] == 0 || cand > best_[r]) {
          std::swap(best_[r], cand);
          from_[r] = kRight;
        }
      }
      val_[r] = val_[l] + val_[rt];
    }
  }
  BasicPoint2<I> out{x0_, q0_, u * x0_ + v * q0_};
  if (root_ < 0) return out;
  const auto root = static_cast<std::size_t>(root_);
  if (has_[root] == 0 || !(best_[root] > 0)) return out;
  // Trace the best point back to node 1, adding the displacements skipped on the way.
  I bx = 0, by = 0;
  std::size_t node = root;
  while (node >= 2) {
    const Op& op = ops_[node - 2];
    const auto l = static_cast<std::size_t>(op.a);
    switch (from_[node]) {
      case kLastCopy:
        cand = op.n - 1;
        bx += dx_[l] * cand;
        by += dy_[l] * cand;
        node = l;
        break;
      case kFirstCopy:
      case kLeft: node = l; break;
      default:  // kRight
        bx += dx_[l];
        by += dy_[l];
        node = static_cast<std::size_t>(op.b);
        break;
    }
  }
  bx += 1;  // node 1's point
  out.x = forward_ ? I(x0_ + bx) : I(x0_ - bx);
  out.y = q0_ + by;
  out.value += best_[root];
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
