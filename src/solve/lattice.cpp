// The integer points just under a line, walked as a word of "up" and "right" steps and
// multiplied in a monoid with the universal Euclidean algorithm (O(log) products). The
// monoid keeps the best value of u*x + v*y over the points visited, so the maximum of a
// linear function over {(x, floor((P x + R)/Q))} costs O(log max(P, Q, L)) products
// instead of L evaluations.
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

// The Euclid-like recursion depends only on the line and the interval, not on the
// objective, so it is recorded once as a straight-line program of monoid products
// (node 0 = "up", node 1 = "right", each later node a product or a power of earlier
// ones) and evaluated for each objective of the Dinkelbach iterations.
// Each node is recorded with its displacement (dx, dy) and whether it visits a point.
template <class I>
struct Recorder {
  std::vector<typename LinePlan<I>::Node>& nodes;

  int mul(int a, int b) {
    if (a < 0) return b;  // -1 is the identity
    if (b < 0) return a;
    const auto& l = nodes[static_cast<std::size_t>(a)];
    const auto& r = nodes[static_cast<std::size_t>(b)];
    typename LinePlan<I>::Node node{false, static_cast<char>(l.has != 0 || r.has != 0), l.has, r.has, a, b, I(0),
                                    l.dx + r.dx, l.dy + r.dy};
    nodes.push_back(std::move(node));
    return static_cast<int>(nodes.size()) - 1;
  }
  int pow(int a, const I& n) {
    if (a < 0 || n == 0) return -1;
    if (n == 1) return a;
    const auto& l = nodes[static_cast<std::size_t>(a)];
    typename LinePlan<I>::Node node{true, l.has, l.has, 0, a, -1, n, l.dx * n, l.dy * n};
    nodes.push_back(std::move(node));
    return static_cast<int>(nodes.size()) - 1;
  }
  // Product over i = 1..L of up^(f(i)-f(i-1)) right, f(i) = floor((P i + R)/Q), 0 <= R < Q.
  int euclid(const I& P, const I& Q, const I& R, const I& L, int up, int right) {
    if (L == 0) return -1;
    if (P >= Q) {
      const I quot = P / Q;
      const I rem = P - quot * Q;  // P % Q without a second division
      return euclid(rem, Q, R, L, up, mul(pow(up, quot), right));
    }
    const I m = (P * L + R) / Q;
    if (m == 0) return pow(right, L);
    const I cnt = L - (Q * m - R - 1) / P;
    const I gap = Q - R - 1;
    const I first = gap / P;
    const int head = mul(pow(right, first), up);
    const int mid = euclid(Q, P, gap - first * P, m - 1, right, up);
    return mul(mul(head, mid), pow(right, cnt));
  }
  // The same recursion in 64-bit words, for a line with P*L + R < 2^63: P*L + R never
  // grows down the recursion (P mod Q < P; and Q*(m - 1) + (gap mod P) < P*L + R for
  // P < Q), and every product it forms (P*L, Q*m, quot*Q, first*P) is at most that, so
  // no step overflows. Every node it records is a factor of the whole word (a right
  // passed down is always used: cnt >= 1, or L >= 1 copies when m = 0; an up is used
  // whenever m >= 1), so each displacement is at most the walk's own, (L, f(L)) with
  // f(L) <= P*L + R: they are formed without overflow checks (mul64, pow64).
  int euclid64(std::int64_t P, std::int64_t Q, std::int64_t R, std::int64_t L, int up, int right) {
    if (L == 0) return -1;
    if (P >= Q) {
      const std::int64_t quot = P / Q;
      return euclid64(P - quot * Q, Q, R, L, up, mul64(pow64(up, quot), right));
    }
    const std::int64_t m = (P * L + R) / Q;
    if (m == 0) return pow64(right, L);
    const std::int64_t cnt = L - (Q * m - R - 1) / P;
    const std::int64_t gap = Q - R - 1;
    const std::int64_t first = gap / P;
    const int head = mul64(pow64(right, first), up);
    const int mid = euclid64(Q, P, gap - first * P, m - 1, right, up);
    return mul64(mul64(head, mid), pow64(right, cnt));
  }
  // mul and pow for euclid64, whose displacements fit 64 bits.
  static I sum_fit(const I& a, const I& b) {
    if constexpr (std::is_same_v<I, Int128>) {
      return Int128::raw(a.get() + b.get());
    } else {
      return a + b;
    }
  }
  static I times_fit(const I& a, std::int64_t n) {
    if constexpr (std::is_same_v<I, Int128>) {
      return Int128::raw(a.get() * n);
    } else {
      return a * I(static_cast<long>(n));
    }
  }
  int mul64(int a, int b) {
    if (a < 0) return b;
    if (b < 0) return a;
    const auto& l = nodes[static_cast<std::size_t>(a)];
    const auto& r = nodes[static_cast<std::size_t>(b)];
    typename LinePlan<I>::Node node{false, static_cast<char>(l.has != 0 || r.has != 0), l.has, r.has, a, b, I(0),
                                    sum_fit(l.dx, r.dx), sum_fit(l.dy, r.dy)};
    nodes.push_back(std::move(node));
    return static_cast<int>(nodes.size()) - 1;
  }
  int pow64(int a, std::int64_t n) {
    if (a < 0 || n == 0) return -1;
    if (n == 1) return a;
    const auto& l = nodes[static_cast<std::size_t>(a)];
    typename LinePlan<I>::Node node{true, l.has, l.has, 0, a, -1, I(static_cast<long>(n)), times_fit(l.dx, n),
                                    times_fit(l.dy, n)};
    nodes.push_back(std::move(node));
    return static_cast<int>(nodes.size()) - 1;
  }
};

// x as a 64-bit word, when it is one.
bool word(const Integer& x, std::int64_t& out) {
  if (!x.fits_slong_p()) return false;
  out = x.get_si();
  return true;
}
bool word(const Int128& x, std::int64_t& out) { return get_int64(x, out); }

}  // namespace

// Where a node's best point comes from: its left factor, its right factor (after the
// left's displacement), or, for a power, its first or last copy.
enum From : char { kLeft, kRight, kFirstCopy, kLastCopy };

template <class I>
void LinePlan<I>::assign(const I& s, const I& t, const I& a, const I& h, const I& c) {
  if (c <= 0 || s > t) throw std::logic_error("max_linear_under_line: needs c > 0 and s <= t");
  // Walk in the direction in which the line does not decrease.
  forward_ = a <= 0;
  x0_ = forward_ ? s : t;
  const I slope = forward_ ? I(-a) : a;  // P >= 0
  const I r_full = h - a * x0_;
  I r0;
  fdiv_qr(q0_, r0, r_full, c);
  // Node 0 is "up" (displacement (0, 1), no point), node 1 "right" ((1, 0), its point).
  nodes_.resize(2);
  nodes_[0] = Node{false, 0, 0, 0, -1, -1, I(0), I(0), I(1)};
  nodes_[1] = Node{false, 1, 0, 0, -1, -1, I(0), I(1), I(0)};
  Recorder<I> rec{nodes_};
  const I length = t - s;
  // In 64-bit words when the line allows it (P*L + R < 2^63, see euclid64).
  std::int64_t p64 = 0, c64 = 0, r64 = 0, l64 = 0;
  if (word(slope, p64) && word(c, c64) && word(r0, r64) && word(length, l64) &&
      I(I(slope * length) + r0) <= I(static_cast<long>(INT64_MAX))) {
    root_ = rec.euclid64(p64, c64, r64, l64, 0, 1);
  } else {
    root_ = rec.euclid(slope, c, r0, length, 0, 1);
  }
}

template <class I>
BasicPoint2<I> LinePlan<I>::eval(const I& u, const I& v) const {
  const I du = forward_ ? u : I(-u);  // objective per step right
  const std::size_t n = nodes_.size();
  state_.resize(n);
  state_[0].val = v;   // "up"
  state_[1].val = du;  // "right", whose one point (1, 0) is its best
  state_[1].best = du;
  state_[1].ref = 1;
  I cand;
  // The monoid's products, values only: the best over a product is the left factor's best
  // or the left's total plus the right's best (ties keep the earlier point); over a power
  // the copies' bests form an arithmetic progression, so it is the first or the last copy.
  // A best that equals a factor's is not copied: `ref` names the node that holds it (a
  // copy just after the factor was written would stall on store forwarding). Raw pointers:
  // the stores through State would otherwise reload the vectors' data on every node.
  const Node* const nodes = nodes_.data();
  State* const st = state_.data();
  for (std::size_t i = 2; i < n; ++i) {
    const Node& node = nodes[i];
    State& r = st[i];
    const State& l = st[static_cast<std::size_t>(node.a)];
    if (node.pow) {
      r.val = l.val * node.n;
      if (node.left_has == 0) continue;
      if (l.val > 0) {
        cand = r.val;
        cand -= l.val;  // (n - 1) * l.val: the last copy starts n - 1 displacements on
        r.best = st[static_cast<std::size_t>(l.ref)].best + cand;
        r.ref = static_cast<int>(i);
        r.from = kLastCopy;
      } else {
        r.ref = l.ref;
        r.from = kFirstCopy;
      }
    } else {
      const State& rs = st[static_cast<std::size_t>(node.b)];
      if (node.right_has != 0) {
        cand = l.val;
        cand += st[static_cast<std::size_t>(rs.ref)].best;
        if (node.left_has == 0 || cand > st[static_cast<std::size_t>(l.ref)].best) {
          std::swap(r.best, cand);
          r.ref = static_cast<int>(i);
          r.from = kRight;
        } else {
          r.ref = l.ref;
          r.from = kLeft;
        }
      } else if (node.left_has != 0) {
        r.ref = l.ref;
        r.from = kLeft;
      }
      r.val = l.val + rs.val;
    }
  }
  const auto best_of = [this](const State& x) -> const I& { return state_[static_cast<std::size_t>(x.ref)].best; };
  BasicPoint2<I> out{x0_, q0_, u * x0_ + v * q0_};
  if (root_ < 0) return out;
  const auto root = static_cast<std::size_t>(root_);
  const I& root_best = best_of(state_[root]);
  if (nodes_[root].has == 0 || !(root_best > 0)) return out;
  // Trace the best point back to node 1, adding the displacements skipped on the way.
  I bx = 0, by = 0;
  std::size_t at = root;
  while (at >= 2) {
    const Node& node = nodes_[at];
    const Node& ln = nodes_[static_cast<std::size_t>(node.a)];
    switch (state_[at].from) {
      case kLastCopy:
        cand = node.n - 1;
        bx += ln.dx * cand;
        by += ln.dy * cand;
        at = static_cast<std::size_t>(node.a);
        break;
      case kFirstCopy:
      case kLeft: at = static_cast<std::size_t>(node.a); break;
      default:  // kRight
        bx += ln.dx;
        by += ln.dy;
        at = static_cast<std::size_t>(node.b);
        break;
    }
  }
  bx += 1;  // node 1's point
  out.x = forward_ ? I(x0_ + bx) : I(x0_ - bx);
  out.y = q0_ + by;
  out.value += root_best;
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
