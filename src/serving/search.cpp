// The serving planner's branch and bound (docs/model.md §9.7): floating-point LPs propose,
// exact arithmetic decides. Each node's LP relaxation is solved in double precision by
// GLPK's dual simplex (warm-started from the node before); the node is closed only by an
// exact bound computed from that LP's duals over the exact integer rows (any nonnegative
// multipliers give a valid bound, so rounding in the duals can only weaken it), or, where
// that bound falls short of the decision by rounding alone, by the exact rational LP of
// the node. Every incumbent is a plan whose time the caller evaluated exactly.
#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "serving/program.hpp"
#include "solve/simplex.hpp"

namespace lorasplit::detail {
namespace {

// The double LP's time variables are the exact ones times a power of two that brings the
// stage's upper bound on them near 2^kTimeExponent, so that GLPK's absolute tolerances
// (1e-7 and 1e-9) sit far below the quantities compared whatever the units.
constexpr int kTimeExponent = 12;
// An LP value this close to the incumbent (relative) is decided by the exact LP.
constexpr double kTieTolerance = 1e-9;
// A variable this close to an integer counts as integral in the double LP's solution.
constexpr double kIntegralTolerance = 1e-6;
// Strong branching tries this many candidates at each node.
constexpr std::size_t kStrongCandidates = 8;
// Each child's LP in strong branching stops after this many pivots.
constexpr int kStrongIterations = 30;

struct GlpkDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

// Frees GLPK's per-thread environment when the thread ends (sweeps solve on many threads).
struct GlpkThreadEnv {
  bool used{false};
  ~GlpkThreadEnv() {
    if (used) glp_free_env();
  }
};
thread_local GlpkThreadEnv glpk_env;

class Search {
 public:
  Search(const ServingStageMip& mip, const Rational& time_upper_s, const StagePointValue& value)
      : mip_(mip), n_(mip.upper.size()), m_(mip.h.size()), value_(value) {
    real_.assign(n_, 0);
    for (std::size_t j = 0; j < n_; ++j) real_[j] = mip.priority[j] == 0 ? 1 : 0;
    box_up_.resize(n_);
    for (std::size_t j = 0; j < n_; ++j) box_up_[j] = real_[j] != 0 ? time_upper_s : Rational(mip.upper[j]);
    rows_.resize(m_);
    for (std::size_t i = 0; i < m_; ++i) {
      for (std::size_t j = 0; j < n_; ++j) {
        if (mip.a[i][j] != 0) rows_[i].push_back(j);
      }
    }
    int e = 0;
    std::frexp(time_upper_s.get_d(), &e);
    time_shift_ = kTimeExponent - e;
    build_lp();
    pseudo_.resize(n_);
  }

  StageSearchResult run(const Rational& incumbent, const Rational& relative_gap, long node_limit, bool fixing) {
    StageSearchResult out;
    inc_ = incumbent;
    struct Node {
      std::vector<std::int64_t> lo, up;
      std::optional<Rational> parent_bound;  // an exact lower bound on every point below it
      // The branching that made it: variable, side, its parent's fractional part and LP value.
      std::size_t var{0};
      bool up_side{false};
      double frac{0}, parent_z{0};
      bool branched{false};
    };
    Node root;
    root.lo.assign(n_, 0);
    root.up.resize(n_);
    for (std::size_t j = 0; j < n_; ++j) root.up[j] = real_[j] != 0 ? 0 : mip_.upper[j].get_si();
    std::vector<Node> stack;
    stack.push_back(std::move(root));
    std::optional<Rational> open_bound;  // the least bound of a node closed by the gap or left open
    const auto note_open = [&](const Rational& b) {
      if (!open_bound || b < *open_bound) open_bound = b;
    };
    while (!stack.empty()) {
      if (node_limit > 0 && out.nodes >= node_limit) {
        out.complete = false;
        for (const Node& nd : stack) note_open(nd.parent_bound ? *nd.parent_bound : Rational(0));
        break;
      }
      Node node = std::move(stack.back());
      stack.pop_back();
      ++out.nodes;
      const Decision d = decide(node.lo, node.up, relative_gap, out);
      if (node.branched && d.z) observe(node.var, node.up_side, node.frac, node.parent_z, *d.z);
      if (d.closed) {
        if (d.by_gap) {
          out.complete = false;
          note_open(d.bound);
        }
        continue;
      }
      if (fixing && d.fixable) out.fixed_bounds += fix_by_reduced_costs(d.bound, node.lo, node.up);
      const std::size_t j = d.branch;
      const std::int64_t f = d.floor;
      Node down = node, up = std::move(node);
      down.up[j] = std::min(down.up[j], f);
      up.lo[j] = std::max(up.lo[j], f + 1);
      down.parent_bound = d.bound;
      up.parent_bound = d.bound;
      for (Node* c : {&down, &up}) {
        c->var = j;
        c->frac = d.frac;
        c->parent_z = d.z.value_or(0);
        c->branched = d.z.has_value();
      }
      down.up_side = false;
      up.up_side = true;
      // A child the fixing emptied holds no point better than the incumbent.
      const bool down_ok = down.lo[j] <= down.up[j], up_ok = up.lo[j] <= up.up[j];
      if (d.up_first) {
        if (down_ok) stack.push_back(std::move(down));
        if (up_ok) stack.push_back(std::move(up));
      } else {
        if (up_ok) stack.push_back(std::move(up));
        if (down_ok) stack.push_back(std::move(down));
      }
    }
    out.value = inc_;
    out.found = found_;
    out.x = inc_x_;
    out.bound = inc_;
    if (open_bound && *open_bound < out.bound) out.bound = *open_bound;
    out.pivots += glp_get_it_cnt(lp_.get());
    return out;
  }

 private:
  struct Decision {
    bool closed{false};
    bool by_gap{false};
    Rational bound{0};          // an exact lower bound on the node's points
    std::size_t branch{0};
    std::int64_t floor{0};
    bool up_first{false};
    std::optional<double> z;    // the double LP's value, when it was solved
    double frac{0};             // the branching variable's fractional part
    bool fixable{false};        // r_ holds the reduced costs behind `bound`
  };

  void build_lp() {
    glpk_env.used = true;
    lp_.reset(glp_create_prob());
    glp_prob* lp = lp_.get();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_rows(lp, static_cast<int>(m_));
    glp_add_cols(lp, static_cast<int>(n_));
    row_shift_.assign(m_, 0);
    std::vector<int> ia{0}, ja{0};
    std::vector<double> ar{0.0};
    for (std::size_t i = 0; i < m_; ++i) {
      // Each row divided by a power of two near its largest coefficient (exact scaling).
      long top = std::numeric_limits<long>::min();
      for (const auto j : rows_[i]) {
        long e = 0;
        mpz_get_d_2exp(&e, mip_.a[i][j].get_mpz_t());
        top = std::max(top, e + col_shift(j));
      }
      if (rows_[i].empty()) top = 0;  // 0 <= h: nothing to scale
      row_shift_[i] = static_cast<int>(top);
      for (const auto j : rows_[i]) {
        ia.push_back(static_cast<int>(i + 1));
        ja.push_back(static_cast<int>(j + 1));
        ar.push_back(scaled(mip_.a[i][j], col_shift(j) - top));
      }
      glp_set_row_bnds(lp, static_cast<int>(i + 1), GLP_UP, 0.0, scaled(mip_.h[i], -top));
    }
    glp_load_matrix(lp, static_cast<int>(ia.size() - 1), ia.data(), ja.data(), ar.data());
    cur_lo_.assign(n_, 0);
    cur_up_.assign(n_, -1);
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0) {
        glp_set_col_bnds(lp, static_cast<int>(j + 1), GLP_DB, 0.0,
                         std::ldexp(box_up_[j].get_d(), time_shift_) * (1 + 1e-12));
      }
      glp_set_obj_coef(lp, static_cast<int>(j + 1), j == mip_.stage_time ? 1.0 : 0.0);
    }
    advanced_basis();
    glp_init_smcp(&parm_);
    parm_.msg_lev = GLP_MSG_OFF;
    parm_.meth = GLP_DUALP;
    parm_.presolve = GLP_OFF;
  }

  // GLPK's starting basis, without its terminal messages.
  void advanced_basis() {
    const int was = glp_term_out(GLP_OFF);
    glp_adv_basis(lp_.get(), 0);
    glp_term_out(was);
  }

  [[nodiscard]] int col_shift(std::size_t j) const { return real_[j] != 0 ? -time_shift_ : 0; }

  static double scaled(const Integer& x, long shift) {
    long e = 0;
    const double m = mpz_get_d_2exp(&e, x.get_mpz_t());
    return std::ldexp(m, static_cast<int>(e + shift));
  }

  void set_bounds(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0 || (cur_lo_[j] == lo[j] && cur_up_[j] == up[j])) continue;
      cur_lo_[j] = lo[j];
      cur_up_[j] = up[j];
      const auto l = static_cast<double>(lo[j]), u = static_cast<double>(up[j]);
      glp_set_col_bnds(lp_.get(), static_cast<int>(j + 1), lo[j] == up[j] ? GLP_FX : GLP_DB, l, u);
    }
  }

  // The node's fate: closed (by an exact bound, an exact LP or emptiness) or a variable to
  // branch on.
  Decision decide(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up,
                  const Rational& relative_gap, StageSearchResult& out) {
    Decision d;
    set_bounds(lo, up);
    int ret = glp_simplex(lp_.get(), &parm_);
    if (ret == GLP_EBADB || ret == GLP_ESING || ret == GLP_ECOND) {
      advanced_basis();
      ret = glp_simplex(lp_.get(), &parm_);
    }
    const int status = ret == 0 ? glp_get_status(lp_.get()) : GLP_UNDEF;
    if (status == GLP_NOFEAS && glp_bf_exists(lp_.get()) != 0 && proved_empty(lo, up)) {
      d.closed = true;
      d.bound = inc_;  // empty: no point below anything
      return d;
    }
    if (status != GLP_OPT) return exact(lo, up, relative_gap, out);  // unsure: the exact LP decides
    const double z = std::ldexp(glp_get_obj_val(lp_.get()), -time_shift_);
    d.z = z;
    // The exact bound from the LP's duals.
    d.bound = dual_bound(lo, up);
    if (closes(d, relative_gap)) return d;
    const Rational cut = relative_gap > 0 ? inc_ - relative_gap * inc_ : inc_;
    // The integer variables fractional at the LP's point: the candidates for branching.
    std::size_t pick = n_;
    std::vector<Integer> rounded(n_, Integer(0));
    std::vector<std::pair<double, std::size_t>> cands;
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0) continue;
      const double v = glp_get_col_prim(lp_.get(), static_cast<int>(j + 1));
      const double r = std::round(v);
      rounded[j] = static_cast<long>(std::clamp(r, static_cast<double>(lo[j]), static_cast<double>(up[j])));
      if (std::abs(v - r) <= kIntegralTolerance) continue;
      cands.emplace_back(std::abs(v - std::floor(v) - 0.5), j);
      pick = j;
    }
    const double incd = inc_.get_d();
    const bool tie = z >= (relative_gap > 0 ? cut.get_d() : incd) - kTieTolerance * std::abs(incd);
    if (pick == n_) {
      // Integral: the plan of these integers is evaluated exactly (a new incumbent if it is
      // better); the node's own bound is then settled exactly.
      offer(rounded);
      if (closes(d, relative_gap) || settled_by_basis(lo, up, relative_gap, d, out)) return d;
      return exact(lo, up, relative_gap, out);
    }
    if (tie) return settled_by_basis(lo, up, relative_gap, d, out) ? d : exact(lo, up, relative_gap, out);
    pick = strong_branch(cands, lo, up, z);
    const double v = col_value_[pick];
    d.branch = pick;
    d.floor = static_cast<std::int64_t>(std::floor(v));
    if (d.floor < lo[pick] || d.floor >= up[pick]) return exact(lo, up, relative_gap, out);  // outside its box
    d.frac = v - std::floor(v);
    d.up_first = d.frac >= 0.5;
    d.fixable = r_valid_;
    return d;
  }

  // Reduced-cost fixing (exact): with `bound` = -y·h + sum_j min(r_j lo_j, r_j up_j) from
  // dual_bound, every point of the box satisfies t >= bound + r_j (x_j - lo_j) for r_j > 0
  // (and + |r_j| (up_j - x_j) for r_j < 0), so a point strictly better than the incumbent
  // has r_j (x_j - lo_j) < incumbent - bound: x_j <= lo_j + ceil(S / r_j) - 1 with S that
  // slack. The integer variables' boxes shrink accordingly; returns how many moved.
  long fix_by_reduced_costs(const Rational& bound, std::vector<std::int64_t>& lo, std::vector<std::int64_t>& up) {
    if (!r_valid_ || !(bound < inc_)) return 0;
    // The slack in the units of r_ (scaled by 2^-q).
    Rational s = inc_ - bound;
    mpz_mul_2exp(s.get_num_mpz_t(), s.get_num_mpz_t(), static_cast<mp_bitcnt_t>(-r_q_));
    s.canonicalize();
    const double sd = s.get_d();
    long moved = 0;
    Integer c;
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0 || lo[j] >= up[j]) continue;
      const int sign = mpz_sgn(r_[j].get_mpz_t());
      if (sign == 0) continue;
      const double width = static_cast<double>(up[j] - lo[j]);
      if (std::abs(r_[j].get_d()) * width < sd * (1 - 1e-9)) continue;  // cannot move a bound
      // c = ceil(S / |r_j|) = ceil(num / (den |r_j|)).
      Integer den = s.get_den() * r_[j];
      if (sign < 0) den = -den;
      mpz_cdiv_q(c.get_mpz_t(), s.get_num_mpz_t(), den.get_mpz_t());
      if (c > Integer(static_cast<long>(up[j] - lo[j]))) continue;
      const std::int64_t reach = c.get_si() - 1;
      if (sign > 0) {
        up[j] = lo[j] + reach;
      } else {
        lo[j] = up[j] - reach;
      }
      ++moved;
    }
    return moved;
  }

  // Reliability branching: each candidate (fractionality, variable) is scored by the
  // product of the rises its two children's LPs are expected to show. A variable whose
  // rises have been observed (pseudocosts: rise per unit of the bound moved, averaged) is
  // scored from them; the others, the most fractional kStrongCandidates first, by solving
  // both children's LPs in double (a few dual simplex pivots each from this node's
  // basis), which also seeds their pseudocosts. Only the choice of variable depends on it.
  std::size_t strong_branch(std::vector<std::pair<double, std::size_t>>& cands, const std::vector<std::int64_t>& lo,
                            const std::vector<std::int64_t>& up, double z) {
    glp_prob* lp = lp_.get();
    col_value_.resize(n_);
    for (const auto& [g, j] : cands) col_value_[j] = glp_get_col_prim(lp, static_cast<int>(j + 1));
    std::sort(cands.begin(), cands.end());
    const double scale = std::max(std::abs(z), 1e-300);
    glp_smcp child_parm = parm_;
    child_parm.it_lim = kStrongIterations;
    const auto child = [&](std::size_t j, std::int64_t l, std::int64_t u) {
      glp_set_col_bnds(lp, static_cast<int>(j + 1), l == u ? GLP_FX : GLP_DB, static_cast<double>(l),
                       static_cast<double>(u));
      const int ret = glp_simplex(lp, &child_parm);
      double rise = 0;
      const int st = glp_get_status(lp);
      if ((ret == 0 && st == GLP_NOFEAS) || (ret == 0 && glp_get_prim_stat(lp) == GLP_NOFEAS)) {
        rise = 1;  // empty: as good as it gets
      } else if (ret == 0 || ret == GLP_EITLIM) {
        // Optimal, or stopped early: the dual simplex's objective only rises.
        rise = std::max(0.0, std::ldexp(glp_get_obj_val(lp), -time_shift_) - z) / scale;
      }
      return rise;
    };
    std::size_t best = cands[0].second;
    double best_score = -1;
    std::size_t tried = 0;
    for (const auto& [g, j] : cands) {
      const double v = col_value_[j];
      const auto f = static_cast<std::int64_t>(std::floor(v));
      if (f < lo[j] || f >= up[j]) continue;
      const double frac = v - static_cast<double>(f);
      double down = 0, upr = 0;
      Pseudocost& pc = pseudo_[j];
      if (pc.down_n > 0 && pc.up_n > 0) {
        down = pc.down / static_cast<double>(pc.down_n) * frac;
        upr = pc.up / static_cast<double>(pc.up_n) * (1 - frac);
      } else if (tried < kStrongCandidates) {
        ++tried;
        down = child(j, lo[j], f);
        upr = child(j, f + 1, up[j]);
        glp_set_col_bnds(lp, static_cast<int>(j + 1), lo[j] == up[j] ? GLP_FX : GLP_DB, static_cast<double>(lo[j]),
                         static_cast<double>(up[j]));
        pc.down += down / frac;
        pc.up += upr / (1 - frac);
        ++pc.down_n;
        ++pc.up_n;
      } else {
        continue;
      }
      const double score = std::max(down, 1e-12) * std::max(upr, 1e-12);
      if (score > best_score) {
        best_score = score;
        best = j;
      }
    }
    return best;
  }

  // A node's LP value after branching on j: its rise over the parent's, per unit of the
  // bound moved, joins j's pseudocost.
  void observe(std::size_t j, bool up_side, double frac, double parent_z, double z) {
    if (!(frac > 0) || !(frac < 1)) return;
    const double scale = std::max(std::abs(parent_z), 1e-300);
    const double rise = std::max(0.0, z - parent_z) / scale;
    Pseudocost& pc = pseudo_[j];
    if (up_side) {
      pc.up += rise / (1 - frac);
      ++pc.up_n;
    } else {
      pc.down += rise / frac;
      ++pc.down_n;
    }
  }

  // An exact lower bound on the node's points from the double LP's row duals y >= 0:
  // t >= t + y·(a x - h) >= -y·h + sum_j min(r_j lo_j, r_j up_j), r = e_t + a^T y. The
  // duals are dyadic rationals (exactly what the doubles hold, times the powers of two the
  // rows and times were scaled by), so the sums are exact integers over one power of two.
  Rational dual_bound(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    y_.resize(m_);
    for (std::size_t i = 0; i < m_; ++i) y_[i] = -glp_get_row_dual(lp_.get(), static_cast<int>(i + 1));
    return multiplier_bound(y_, -time_shift_, true, lo, up);
  }

  // -y·h + sum_j min(r_j lo_j, r_j up_j) with r = [objective] e_t + a^T y, exactly, for the
  // multipliers y_i = max(0, w_i) 2^(shift - row_shift_i) of the exact rows (w per double
  // row). With the objective: a lower bound on the node's stage time; without, a value
  // above 0 proves the node empty (Farkas).
  Rational multiplier_bound(const std::vector<double>& w, int shift, bool objective, const std::vector<std::int64_t>& lo,
                            const std::vector<std::int64_t>& up) {
    struct Term {
      std::size_t i;
      std::int64_t mant;
      long exp;
    };
    std::vector<Term> terms;
    double top = 0;
    for (std::size_t i = 0; i < m_; ++i) {
      if (std::isfinite(w[i])) top = std::max(top, w[i]);
    }
    r_valid_ = false;
    if (!(top > 0)) return Rational(0);
    long q = 0;
    for (std::size_t i = 0; i < m_; ++i) {
      const double y = w[i];
      if (!std::isfinite(y) || !(y > top * 1e-30)) continue;  // weight 0: still a valid bound
      int e = 0;
      const double m = std::frexp(y, &e);
      const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
      const long ex = static_cast<long>(e) - 53 + shift - row_shift_[i];
      terms.push_back({i, mant, ex});
      q = std::min(q, ex);
    }
    // Everything below is scaled by 2^-q (an integer multiplier).
    Integer neg_yh = 0;
    r_.assign(n_, Integer(0));
    if (objective) mpz_setbit(r_[mip_.stage_time].get_mpz_t(), static_cast<mp_bitcnt_t>(-q));
    Integer y;
    for (const Term& t : terms) {
      y = t.mant;
      mpz_mul_2exp(y.get_mpz_t(), y.get_mpz_t(), static_cast<mp_bitcnt_t>(t.exp - q));
      mpz_submul(neg_yh.get_mpz_t(), y.get_mpz_t(), mip_.h[t.i].get_mpz_t());
      for (const auto j : rows_[t.i]) mpz_addmul(r_[j].get_mpz_t(), y.get_mpz_t(), mip_.a[t.i][j].get_mpz_t());
    }
    Rational sum(neg_yh);
    Integer acc = 0;
    for (std::size_t j = 0; j < n_; ++j) {
      const int sign = mpz_sgn(r_[j].get_mpz_t());
      if (sign == 0) continue;
      if (real_[j] != 0) {
        if (sign < 0) sum += Rational(r_[j]) * box_up_[j];  // lower bound 0 otherwise
        continue;
      }
      const std::int64_t b = sign > 0 ? lo[j] : up[j];
      if (b != 0) acc += r_[j] * Integer(static_cast<long>(b));
    }
    sum += Rational(acc);
    r_valid_ = objective;
    r_q_ = q;
    Rational scale;
    mpz_setbit(scale.get_num_mpz_t(), static_cast<mp_bitcnt_t>(-q));
    scale.get_den() = 1;
    sum /= scale;
    return sum;
  }

  // Whether GLPK's verdict "no point" is proved exactly: the row of the basis inverse at
  // the basic variable the dual simplex could not make feasible (GLPK's dual ray), taken
  // with either sign as Farkas multipliers.
  bool proved_empty(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    glp_prob* lp = lp_.get();
    const int k = glp_get_unbnd_ray(lp);
    const int m = static_cast<int>(m_);
    if (k <= 0 || k > m + static_cast<int>(n_)) return false;
    const int p = k <= m ? glp_get_row_bind(lp, k) : glp_get_col_bind(lp, k - m);
    if (p <= 0) return false;
    std::vector<double> rho(m_ + 1, 0.0);
    rho[static_cast<std::size_t>(p)] = 1.0;
    glp_btran(lp, rho.data());
    for (const double sign : {1.0, -1.0}) {
      y_.assign(m_, 0.0);
      for (std::size_t i = 0; i < m_; ++i) y_[i] = sign * rho[i + 1];
      if (multiplier_bound(y_, 0, false, lo, up) > 0) return true;
    }
    return false;
  }

  // Whether the basis's exact bound closes the node (by the incumbent or the gap).
  bool settled_by_basis(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up,
                        const Rational& relative_gap, Decision& d, StageSearchResult& out) {
    ++out.basis_bounds;
    const std::optional<Rational> b = basis_bound(lo, up);
    if (!b) return false;
    if (*b > d.bound) d.bound = *b;
    return closes(d, relative_gap);
  }

  // Whether d.bound closes the node: no plan below it beats the incumbent, or none beats
  // it by more than the relative gap (then by_gap). Sets d.closed.
  bool closes(Decision& d, const Rational& relative_gap) const {
    if (d.bound >= inc_) {
      d.closed = true;
    } else if (relative_gap > 0 && d.bound >= inc_ - relative_gap * inc_) {
      d.closed = true;
      d.by_gap = true;
    }
    return d.closed;
  }

  // An exact lower bound from the double LP's final basis: the row duals that make every
  // basic column's reduced cost exactly zero (a sparse rational system, one equation per
  // basic column, one unknown per row at its bound), solved exactly, negative ones set to
  // zero, then the bound of dual_bound with them. When the basis is optimal in exact
  // arithmetic, as it is unless the LP is within GLPK's tolerances of another, this is the
  // node's LP value exactly; otherwise still a valid bound. Nothing when the system is
  // singular.
  std::optional<Rational> basis_bound(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    glp_prob* lp = lp_.get();
    std::vector<int> unknown_of_row(m_, -1);
    std::vector<std::size_t> rows_n;
    for (std::size_t i = 0; i < m_; ++i) {
      if (glp_get_row_stat(lp, static_cast<int>(i + 1)) != GLP_BS) {
        unknown_of_row[i] = static_cast<int>(rows_n.size());
        rows_n.push_back(i);
      }
    }
    // Equations: for each basic column j, sum_i a_ij y_i = -c_j.
    struct Eq {
      std::vector<std::pair<int, Rational>> terms;  // (unknown, coefficient)
      Rational rhs;
    };
    std::vector<Eq> eqs;
    for (std::size_t j = 0; j < n_; ++j) {
      if (glp_get_col_stat(lp, static_cast<int>(j + 1)) != GLP_BS) continue;
      Eq e;
      e.rhs = j == mip_.stage_time ? Rational(-1) : Rational(0);
      eqs.push_back(std::move(e));
    }
    if (eqs.size() != rows_n.size()) return std::nullopt;
    {
      std::size_t q = 0;
      std::vector<int> eq_of_col(n_, -1);
      for (std::size_t j = 0; j < n_; ++j) {
        if (glp_get_col_stat(lp, static_cast<int>(j + 1)) == GLP_BS) eq_of_col[j] = static_cast<int>(q++);
      }
      for (const auto i : rows_n) {
        for (const auto j : rows_[i]) {
          if (eq_of_col[j] >= 0) {
            eqs[static_cast<std::size_t>(eq_of_col[j])].terms.emplace_back(unknown_of_row[i], Rational(mip_.a[i][j]));
          }
        }
      }
    }
    // Sparse elimination: repeatedly the shortest remaining equation, pivoting on its
    // unknown that the fewest other equations hold.
    const std::size_t k = eqs.size();
    std::vector<std::vector<std::size_t>> holders(k);  // per unknown, the equations holding it
    for (std::size_t e = 0; e < k; ++e) {
      for (const auto& [u, a] : eqs[e].terms) holders[static_cast<std::size_t>(u)].push_back(e);
    }
    std::vector<char> done(k, 0);
    std::vector<std::pair<std::size_t, int>> order;  // (equation, its pivot unknown)
    std::vector<char> used(k, 0);
    for (std::size_t step = 0; step < k; ++step) {
      std::size_t best = k;
      for (std::size_t e = 0; e < k; ++e) {
        if (done[e] == 0 && (best == k || eqs[e].terms.size() < eqs[best].terms.size())) best = e;
      }
      Eq& pe = eqs[best];
      if (pe.terms.empty()) return std::nullopt;  // singular
      std::size_t pick = 0;
      for (std::size_t t = 1; t < pe.terms.size(); ++t) {
        if (holders[static_cast<std::size_t>(pe.terms[t].first)].size() <
            holders[static_cast<std::size_t>(pe.terms[pick].first)].size()) {
          pick = t;
        }
      }
      const int u = pe.terms[pick].first;
      const Rational a = pe.terms[pick].second;
      done[best] = 1;
      used[static_cast<std::size_t>(u)] = 1;
      order.emplace_back(best, u);
      // Eliminate u from every other open equation.
      for (const auto e : holders[static_cast<std::size_t>(u)]) {
        if (done[e] != 0) continue;
        Eq& oe = eqs[e];
        auto it = std::find_if(oe.terms.begin(), oe.terms.end(), [u](const auto& t) { return t.first == u; });
        if (it == oe.terms.end()) continue;
        const Rational f = it->second / a;
        oe.terms.erase(it);
        for (const auto& term : pe.terms) {
          const int v = term.first;  // a named copy: Clang 14 cannot capture a structured binding
          const Rational& b = term.second;
          if (v == u) continue;
          auto jt = std::find_if(oe.terms.begin(), oe.terms.end(), [v](const auto& t) { return t.first == v; });
          if (jt == oe.terms.end()) {
            oe.terms.emplace_back(v, -f * b);
            holders[static_cast<std::size_t>(v)].push_back(e);
          } else {
            jt->second -= f * b;
            if (jt->second == 0) oe.terms.erase(jt);
          }
        }
        oe.rhs -= f * pe.rhs;
      }
    }
    // Back substitution, last pivot first.
    std::vector<Rational> y(k, Rational(0));
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const Eq& e = eqs[it->first];
      Rational v = e.rhs, a;
      for (const auto& [w, b] : e.terms) {
        if (w == it->second) {
          a = b;
        } else {
          v -= b * y[static_cast<std::size_t>(w)];
        }
      }
      y[static_cast<std::size_t>(it->second)] = v / a;
    }
    std::vector<std::pair<std::size_t, Rational>> duals;
    for (std::size_t q = 0; q < k; ++q) {
      if (y[q] > 0) duals.emplace_back(rows_n[q], y[q]);
    }
    return rational_bound(duals, lo, up);
  }

  // -y·h + sum_j min(r_j lo_j, r_j up_j), r = e_t + a^T y, for exact duals y >= 0.
  Rational rational_bound(const std::vector<std::pair<std::size_t, Rational>>& duals,
                          const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) const {
    std::vector<Rational> r(n_, Rational(0));
    r[mip_.stage_time] = 1;
    Rational sum = 0;
    for (const auto& [i, y] : duals) {
      sum -= y * Rational(mip_.h[i]);
      for (const auto j : rows_[i]) r[j] += y * Rational(mip_.a[i][j]);
    }
    for (std::size_t j = 0; j < n_; ++j) {
      if (r[j] == 0) continue;
      if (real_[j] != 0) {
        if (r[j] < 0) sum += r[j] * box_up_[j];
        continue;
      }
      sum += r[j] * Rational(r[j] > 0 ? lo[j] : up[j]);
    }
    return sum;
  }

  // An integer point proposed by the double LP: the caller's exact value of its plan.
  void offer(const std::vector<Integer>& x) {
    const std::optional<Rational> v = value_(x);
    if (v && *v < inc_) {
      inc_ = *v;
      inc_x_ = x;
      found_ = true;
    }
  }

  // The node decided by the exact LP (rational simplex, one tableau for all such nodes).
  Decision exact(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up,
                 const Rational& relative_gap, StageSearchResult& out) {
    Decision d;
    if (!exact_) {
      std::vector<Rational> l(n_, Rational(0));
      exact_ = std::make_unique<BoxLp>(mip_.a, mip_.h, l, box_up_);
      std::vector<Integer> c(n_, Integer(0));
      c[mip_.stage_time] = -1;
      exact_->set_objective(c);
    }
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0) continue;
      const Rational l(lo[j]), u(up[j]);
      if (exact_->lower(j) != l || exact_->upper(j) != u) exact_->set_bounds(j, l, u);
    }
    exact_->restore_dual_feasibility();
    ++out.exact_lps;
    const long before = exact_->pivots();
    const auto status = exact_->solve();
    out.exact_pivots += exact_->pivots() - before;
    if (status != BoxLp::Status::kOptimal) {
      d.closed = true;
      d.bound = inc_;  // empty: no point below anything
      return d;
    }
    d.bound = -exact_->value();
    if (closes(d, relative_gap)) return d;
    std::size_t pick = n_;
    int pick_priority = 0;
    Rational pick_gap;
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0) continue;
      const Rational v = exact_->x(j);
      if (v.get_den() == 1) continue;
      Rational gap = v - Rational(floor_of(v)) - Rational(1, 2);
      if (gap < 0) gap = -gap;
      if (pick == n_ || mip_.priority[j] > pick_priority || (mip_.priority[j] == pick_priority && gap < pick_gap)) {
        pick = j;
        pick_priority = mip_.priority[j];
        pick_gap = gap;
      }
    }
    if (pick == n_) {
      // Integral at the exact LP's optimum: the best point of the node; its plan (the fewest
      // readers of its totals) is at least as good.
      std::vector<Integer> x(n_, Integer(0));
      for (std::size_t j = 0; j < n_; ++j) {
        if (real_[j] == 0) x[j] = exact_->x(j).get_num();
      }
      offer(x);
      d.closed = true;
      return d;
    }
    const Rational v = exact_->x(pick);
    const Integer f = floor_of(v);
    d.branch = pick;
    d.floor = f.get_si();
    d.up_first = v - Rational(f) >= Rational(1, 2);
    return d;
  }

  const ServingStageMip& mip_;
  std::size_t n_, m_;
  const StagePointValue& value_;
  std::vector<char> real_;
  std::vector<Rational> box_up_;
  std::vector<std::vector<std::size_t>> rows_;  // per row, its nonzero columns
  std::vector<int> row_shift_;
  int time_shift_{0};  // the double LP's times are the exact ones times 2^time_shift_
  std::unique_ptr<glp_prob, GlpkDeleter> lp_;
  glp_smcp parm_{};
  std::vector<std::int64_t> cur_lo_, cur_up_;
  std::unique_ptr<BoxLp> exact_;
  std::vector<Integer> r_;  // the last multiplier_bound's reduced costs, times 2^-r_q_
  long r_q_{0};
  bool r_valid_{false};     // r_ is from a bound on the stage time (dual_bound)
  std::vector<double> y_;
  std::vector<double> col_value_;
  struct Pseudocost {
    double down{0}, up{0};
    long down_n{0}, up_n{0};
  };
  std::vector<Pseudocost> pseudo_;
  Rational inc_;
  std::vector<Integer> inc_x_;
  bool found_{false};
};

}  // namespace

StageSearchResult search_stage(const ServingStageMip& mip, const Rational& time_upper_s, const Rational& incumbent,
                               const StagePointValue& value, const Rational& relative_gap, long node_limit,
                               bool reduced_cost_fixing) {
  Search search(mip, time_upper_s, value);
  return search.run(incumbent, relative_gap, node_limit, reduced_cost_fixing);
}

}  // namespace lorasplit::detail
