#include "solve/bnb.hpp"

#include "solve/int128.hpp"

#include <algorithm>
#include <utility>

namespace lorasplit::detail {
namespace {

Integer abs_of(const Integer& x) { return x < 0 ? Integer(-x) : x; }

}  // namespace

PolytopeBox polytope_box(const std::vector<std::vector<Integer>>& a, const std::vector<Integer>& h, std::size_t n,
                         bool integer) {
  PolytopeBox out;
  out.upper.assign(n, Integer(0));
  // A row with no negative coefficient bounds each column it charges: t_j <= h / a_j.
  std::vector<char> bounded(n, 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool nonneg = true;
    for (std::size_t j = 0; j < n; ++j) nonneg = nonneg && a[i][j] >= 0;
    if (!nonneg) continue;
    if (h[i] < 0) {
      out.empty = true;  // a·t >= 0 > h for every t >= 0
      return out;
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (a[i][j] <= 0) continue;
      const Integer q = integer ? floor_div(h[i], a[i][j]) : ceil_div(h[i], a[i][j]);
      if (bounded[j] == 0 || q < out.upper[j]) out.upper[j] = q;
      bounded[j] = 1;
    }
  }
  std::vector<std::size_t> open;
  for (std::size_t j = 0; j < n; ++j) {
    if (bounded[j] == 0) open.push_back(j);
  }
  if (open.empty()) return out;
  // The polytope is bounded iff its recession cone {d >= 0 : a·d <= 0} is {0}: the LP max
  // sum_open d_j over that cone within [0, 1]^n is 0 (a bounded column has d_j = 0 there).
  {
    std::vector<Rational> lo(n, Rational(0)), up(n, Rational(1));
    for (std::size_t j = 0; j < n; ++j) {
      if (bounded[j] != 0) up[j] = 0;
    }
    BoxLp cone(a, std::vector<Integer>(a.size(), 0), lo, up);
    std::vector<Integer> c(n, 0);
    for (const auto j : open) c[j] = 1;
    cone.set_objective(c);
    if (cone.solve() != BoxLp::Status::kOptimal || cone.value() > 0) {
      out.unbounded = true;
      return out;
    }
  }
  // Bounded: every vertex solves an n x n subsystem of the rows (with t >= 0), so by
  // Cramer's rule and Hadamard's inequality each coordinate is at most
  // n^(n/2) K^n <= (n K^2)^ceil(n/2), K the largest magnitude among a and h (and 1).
  Integer k = 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    k = std::max(k, abs_of(h[i]));
    for (const auto& x : a[i]) k = std::max(k, abs_of(x));
  }
  Integer hadamard;
  const Integer base = Integer(static_cast<unsigned long>(n)) * k * k;
  mpz_pow_ui(hadamard.get_mpz_t(), base.get_mpz_t(), (n + 1) / 2);
  for (const auto j : open) out.upper[j] = hadamard;
  // Tighten each open column to its LP maximum (also finds an empty polytope).
  std::vector<Rational> lo(n, Rational(0)), up(n);
  for (std::size_t j = 0; j < n; ++j) up[j] = out.upper[j];
  BoxLp lp(a, h, lo, up);
  for (const auto j : open) {
    std::vector<Integer> c(n, 0);
    c[j] = 1;
    lp.set_objective(c);
    if (lp.solve() != BoxLp::Status::kOptimal) {
      out.empty = true;
      return out;
    }
    const Rational v = lp.value();
    out.upper[j] = integer ? floor_of(v) : Integer(-floor_of(Rational(-v)));
  }
  return out;
}

BranchAndBound::BranchAndBound(std::vector<std::vector<Integer>> a, std::vector<Integer> h, std::size_t n,
                               bool integer_box)
    : a_(std::move(a)), h_(std::move(h)), n_(n) {
  PolytopeBox box = polytope_box(a_, h_, n_, integer_box);
  unbounded_ = box.unbounded;
  empty_ = box.empty;
  upper_ = std::move(box.upper);
}

BranchAndBound::BranchAndBound(std::vector<std::vector<Integer>> a, std::vector<Integer> h, std::vector<Integer> upper)
    : a_(std::move(a)), h_(std::move(h)), n_(upper.size()), upper_(std::move(upper)) {}

BnbResult BranchAndBound::maximize(const std::vector<Integer>& c,
                                   const std::optional<std::pair<std::vector<Integer>, Integer>>& incumbent) const {
  BnbResult out;
  if (incumbent) {
    out.feasible = true;
    out.t = incumbent->first;
    out.value = incumbent->second;
  }
  if (empty_ || unbounded_) return out;
  const std::vector<int> all_integer(n_, 1);
  std::vector<Rational> lo(n_, Rational(0)), up(n_);
  for (std::size_t j = 0; j < n_; ++j) up[j] = upper_[j];
  BoxLp root(a_, h_, lo, up);
  root.set_objective(c);
  // Depth first; each node is an LP whose basis is its parent's (dual feasible), so the
  // dual simplex resumes from it after the one bound that differs.
  std::vector<BoxLp> stack;
  stack.push_back(std::move(root));
  while (!stack.empty()) {
    BoxLp lp = std::move(stack.back());
    stack.pop_back();
    ++out.nodes;
    const long before = lp.pivots();
    const auto status = lp.solve();
    out.pivots += lp.pivots() - before;
    if (status != BoxLp::Status::kOptimal) continue;
    const Rational z = lp.value();
    if (out.feasible && floor_of(z) <= out.value) continue;  // c·t is an integer: nothing here beats it
    // Branch on the most fractional variable (the first on ties).
    const std::size_t pick = branch_variable(lp, all_integer);
    if (pick == n_) {  // integral: a new incumbent (z > incumbent here)
      out.feasible = true;
      out.t.resize(n_);
      for (std::size_t j = 0; j < n_; ++j) out.t[j] = lp.x(j).get_num();
      out.value = z.get_num();
      continue;
    }
    const Rational v_pick = lp.x(pick);
    const Integer f = floor_of(v_pick);
    const bool up_first = v_pick - Rational(f) >= Rational(1, 2);
    BoxLp other = lp;
    const Rational lo_j = lp.lower(pick), up_j = lp.upper(pick);
    // Pushed last = explored first.
    if (up_first) {
      other.set_bounds(pick, lo_j, Rational(f));
      lp.set_bounds(pick, Rational(f + 1), up_j);
    } else {
      other.set_bounds(pick, Rational(f + 1), up_j);
      lp.set_bounds(pick, lo_j, Rational(f));
    }
    stack.push_back(std::move(other));
    stack.push_back(std::move(lp));
  }
  return out;
}

BranchAndBound::MixedResult BranchAndBound::maximize_mixed(const std::vector<Integer>& c,
                                                          const std::vector<int>& integer,
                                                          const std::optional<Rational>& cutoff,
                                                          const Rational& relative_gap, long node_limit) const {
  // One LP for the whole tree: a node is its bounds, applied to the LP of the node solved
  // before it (the basis stays dual feasible under any bounds, so the dual simplex resumes
  // from it). Memory stays one tableau however deep the tree.
  MixedResult out;
  if (empty_ || unbounded_) return out;
  std::vector<Rational> lo0(n_, Rational(0)), up0(n_);
  for (std::size_t j = 0; j < n_; ++j) up0[j] = upper_[j];
  BoxLp lp(a_, h_, lo0, up0);
  lp.set_objective(c);
  struct Node {
    std::vector<Rational> lo, up;
    std::optional<Rational> parent_z;  // the LP value of its parent: a bound on its points
  };
  std::vector<Node> stack;
  stack.push_back({std::move(lo0), std::move(up0), std::nullopt});
  std::optional<Rational> gap_bound;  // the largest LP value of a node closed by the gap or left open
  const auto best = [&]() -> std::optional<Rational> {
    if (out.feasible) return out.value;
    return cutoff;
  };
  while (!stack.empty()) {
    if (node_limit > 0 && out.nodes >= node_limit) {
      out.complete = false;
      for (const auto& n : stack) {
        if (!n.parent_z) continue;
        if (!gap_bound || *n.parent_z > *gap_bound) gap_bound = *n.parent_z;
      }
      break;
    }
    Node node = std::move(stack.back());
    stack.pop_back();
    for (std::size_t j = 0; j < n_; ++j) {
      if (lp.lower(j) != node.lo[j] || lp.upper(j) != node.up[j]) lp.set_bounds(j, node.lo[j], node.up[j]);
    }
    lp.restore_dual_feasibility();
    ++out.nodes;
    const long before = lp.pivots();
    const auto status = lp.solve();
    out.pivots += lp.pivots() - before;
    if (status != BoxLp::Status::kOptimal) continue;
    const Rational z = lp.value();
    if (out.feasible && z <= out.value) continue;       // nothing here beats the incumbent
    if (!out.feasible && cutoff && z <= *cutoff) continue;  // nor the caller's known value
    const std::size_t pick = branch_variable(lp, integer);
    if (pick == n_) {  // integral where it must be: a new incumbent
      out.feasible = true;
      out.t.resize(n_);
      for (std::size_t j = 0; j < n_; ++j) out.t[j] = lp.x(j);
      out.value = z;
      continue;
    }
    if (const auto b = best(); b && relative_gap > 0) {
      const Rational a = *b < 0 ? Rational(-*b) : *b;
      if (z <= *b + relative_gap * a) {  // within the gap: closed, its value kept as a bound
        out.complete = false;
        if (!gap_bound || z > *gap_bound) gap_bound = z;
        continue;
      }
    }
    const Rational v = lp.x(pick);
    const Integer f = floor_of(v);
    Node down = node, up = std::move(node);
    down.up[pick] = Rational(f);
    up.lo[pick] = Rational(f + 1);
    down.parent_z = z;
    up.parent_z = z;
    // Pushed last = explored first: the nearer side.
    if (v - Rational(f) >= Rational(1, 2)) {
      stack.push_back(std::move(down));
      stack.push_back(std::move(up));
    } else {
      stack.push_back(std::move(up));
      stack.push_back(std::move(down));
    }
  }
  if (const auto b = best(); b) out.bound = *b;
  if (gap_bound && (!best() || *gap_bound > out.bound)) out.bound = *gap_bound;
  return out;
}

std::size_t BranchAndBound::branch_variable(const BoxLp& lp, const std::vector<int>& integer) const {
  // The most fractional variable of the highest priority (the first on ties); n: none.
  std::size_t pick = n_;
  int pick_priority = 0;
  Rational best_gap;
  for (std::size_t j = 0; j < n_; ++j) {
    if (integer[j] <= 0 || integer[j] < pick_priority) continue;
    const Rational v = lp.x(j);
    if (v.get_den() == 1) continue;
    Rational gap = v - Rational(floor_of(v)) - Rational(1, 2);
    if (gap < 0) gap = -gap;
    if (pick == n_ || integer[j] > pick_priority || gap < best_gap) {
      pick = j;
      pick_priority = integer[j];
      best_gap = gap;
    }
  }
  return pick;
}

}  // namespace lorasplit::detail
