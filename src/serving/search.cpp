// The serving planner's branch and bound (docs/model.md §9.7): floating-point LPs propose,
// exact arithmetic decides. Each node's LP relaxation is solved in double precision by a
// dual simplex warm-started from the node before (the compact LP's by DenseLp, the program's
// own LP's by GLPK's); the node is closed only by an
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
#include "solve/dense_lp.hpp"
#include "solve/simplex.hpp"

namespace lorasplit::detail {
namespace {

// The double LP's time variables are the exact ones times a power of two that brings the
// stage's upper bound on them near 2^kTimeExponent, so that the LPs' absolute tolerances
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
// The caller's local search is started from the LP's point at the root and every this many nodes.
constexpr long kProposalEvery = 16;

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
    // The root's box: every integer in [0, upper], the times fixed at 0 (never branched on).
    root_lo_.assign(n_, 0);
    root_up_.resize(n_);
    for (std::size_t j = 0; j < n_; ++j) root_up_[j] = real_[j] != 0 ? 0 : mip.upper[j].get_si();
    if (mip.compact) {
      build_compact();
    } else {
      a_ = mip.a;
      h_ = mip.h;
    }
    m_ = h_.size();
    rows_.resize(m_);
    for (std::size_t i = 0; i < m_; ++i) {
      for (std::size_t j = 0; j < n_; ++j) {
        if (a_[i][j] != 0) rows_[i].push_back(j);
      }
    }
    // A compact row's P and C of a class whose counts it substitutes: nonzero in some nodes.
    for (std::size_t q = 0; q < cls_.size(); ++q) {
      if (!cls_[q].exact) continue;
      const auto& c = mip_.compact->classes[q];
      for (const auto ci : cls_[q].rows) {
        for (const std::size_t j : {c.p, c.c}) {
          if (a_[ci][j] == 0) rows_[ci].push_back(j);
        }
      }
    }
    int e = 0;
    std::frexp(time_upper_s.get_d(), &e);
    time_shift_ = kTimeExponent - e;
    build_lp();
    pseudo_.resize(n_);
  }

  void set_proposal(const StageProposal* propose) { propose_ = propose; }

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
    root.lo = root_lo_;
    root.up = root_up_;
    std::vector<Node> stack;
    if (!root_empty_) stack.push_back(std::move(root));
    std::optional<Rational> open_bound;  // the least bound of a node closed by the gap or left open
    const auto note_open = [&](const Rational& b) {
      if (!open_bound || b < *open_bound) open_bound = b;
    };
    while (!stack.empty()) {
      if (node_limit > 0 && out.nodes >= node_limit) {
        out.complete = false;
        out.node_limit_hit = true;
        for (const Node& nd : stack) note_open(nd.parent_bound ? *nd.parent_bound : Rational(0));
        break;
      }
      Node node = std::move(stack.back());
      stack.pop_back();
      ++out.nodes;
      if (compact_ && !probe_flags(node.lo, node.up, out)) continue;
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
      bool down_ok = down.lo[j] <= down.up[j], up_ok = up.lo[j] <= up.up[j];
      if (compact_) {  // what the branch implies for the flags, readers and totals
        down_ok = down_ok && propagate(down.lo, down.up);
        up_ok = up_ok && propagate(up.lo, up.up);
      }
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
    out.pivots += dlp_ ? dlp_->pivots() : glp_get_it_cnt(lp_.get());
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
    row_shift_.assign(m_, 0);
    for (std::size_t i = 0; i < m_; ++i) {
      // Each row divided by a power of two near its largest coefficient (exact scaling).
      long top = std::numeric_limits<long>::min();
      for (const auto j : rows_[i]) {
        if (a_[i][j] == 0) continue;  // (a compact row's column that is 0 at the root)
        long e = 0;
        mpz_get_d_2exp(&e, a_[i][j].get_mpz_t());
        top = std::max(top, e + col_shift(j));
      }
      if (top == std::numeric_limits<long>::min()) top = 0;  // 0 <= h: nothing to scale
      row_shift_[i] = static_cast<int>(top);
    }
    cur_lo_.assign(n_, 0);  // (no column's bounds set yet)
    cur_up_.assign(n_, -1);
    if (compact_) {
      build_dense_lp();
      return;
    }
    glpk_env.used = true;
    lp_.reset(glp_create_prob());
    glp_prob* lp = lp_.get();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_rows(lp, static_cast<int>(m_));
    glp_add_cols(lp, static_cast<int>(n_));
    std::vector<int> ia{0}, ja{0};
    std::vector<double> ar{0.0};
    for (std::size_t i = 0; i < m_; ++i) {
      const long top = row_shift_[i];
      for (const auto j : rows_[i]) {
        if (a_[i][j] == 0) continue;
        ia.push_back(static_cast<int>(i + 1));
        ja.push_back(static_cast<int>(j + 1));
        ar.push_back(scaled(a_[i][j], col_shift(j) - top));
      }
      glp_set_row_bnds(lp, static_cast<int>(i + 1), GLP_UP, 0.0, scaled(h_[i], -top));
    }
    glp_load_matrix(lp, static_cast<int>(ia.size() - 1), ia.data(), ja.data(), ar.data());
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

  // The compact LP in double precision (the same scaled rows as GLPK's would be): a dense
  // bounded dual simplex over the columns that are not substituted.
  void build_dense_lp() {
    dcol_.assign(n_, -1);
    std::size_t cols = 0;
    for (std::size_t j = 0; j < n_; ++j) {
      if (subst_[j] == 0) dcol_[j] = static_cast<long>(cols++);
    }
    // A class's rows P + C <= S_hi and -P - C <= -S_lo are one ranged row there.
    drow_.assign(m_, 0);
    dlow_.assign(m_, 0);
    for (const auto& cc : cls_) dlow_[cc.s_row + 1] = 1;
    std::size_t dm = 0;
    for (std::size_t i = 0; i < m_; ++i) drow_[i] = dlow_[i] != 0 ? drow_[i - 1] : dm++;
    dlp_ = std::make_unique<DenseLp>(dm, cols);
    std::vector<std::vector<std::pair<std::size_t, double>>> col(cols);
    for (std::size_t i = 0; i < m_; ++i) {
      if (dlow_[i] != 0) continue;
      for (const auto j : rows_[i]) {
        if (a_[i][j] == 0 || dcol_[j] < 0) continue;
        col[static_cast<std::size_t>(dcol_[j])].push_back(dense_entry(i, j));
      }
      set_dense_row(i);
    }
    for (std::size_t j = 0; j < n_; ++j) {
      if (dcol_[j] < 0) continue;
      const auto dj = static_cast<std::size_t>(dcol_[j]);
      dlp_->set_column(dj, col[dj]);
      if (real_[j] != 0) dlp_->set_bounds(dj, 0.0, std::ldexp(box_up_[j].get_d(), time_shift_) * (1 + 1e-12));
      if (j == mip_.stage_time) dlp_->set_cost(dj, 1.0);
    }
  }

  // Row i's coefficient of column j in the dense LP: its row there and the scaled value.
  [[nodiscard]] std::pair<std::size_t, double> dense_entry(std::size_t i, std::size_t j) const {
    return {drow_[i], scaled(a_[i][j], col_shift(j) - row_shift_[i])};
  }

  // Row i's sides in the dense LP (i, or the upper row of a class's pair).
  void set_dense_row(std::size_t i) {
    if (dlow_[i] != 0) --i;
    const bool ranged = i + 1 < m_ && dlow_[i + 1] != 0;
    const double lower = ranged ? -scaled(h_[i + 1], -row_shift_[i + 1]) : -std::numeric_limits<double>::infinity();
    dlp_->set_row(drow_[i], lower, scaled(h_[i], -row_shift_[i]));
  }

  // The double LP's values (compact: the dense LP's; substituted columns are 0 there).
  [[nodiscard]] double lp_col(std::size_t j) const {
    if (dlp_) return dcol_[j] < 0 ? 0.0 : dlp_->x(static_cast<std::size_t>(dcol_[j]));
    return glp_get_col_prim(lp_.get(), static_cast<int>(j + 1));
  }
  [[nodiscard]] double lp_obj() const { return dlp_ ? dlp_->value() : glp_get_obj_val(lp_.get()); }
  [[nodiscard]] bool lp_row_basic(std::size_t i) const {
    if (dlp_) {
      // A ranged row's slack at 0: its upper row is tight; at its upper bound: its lower row.
      // (A row without a lower side whose slack is at its upper bound, the largest the box
      // allows, counts as at its bound.)
      const std::size_t r = drow_[i];
      const bool ranged = dlow_[i] != 0 || (i + 1 < m_ && dlow_[i + 1] != 0);
      if (dlp_->row_basic(r)) return true;
      return ranged && (dlow_[i] != 0) != dlp_->row_at_lower(r);
    }
    return glp_get_row_stat(lp_.get(), static_cast<int>(i + 1)) == GLP_BS;
  }
  [[nodiscard]] bool lp_col_basic(std::size_t j) const {
    if (dlp_) return dcol_[j] >= 0 && dlp_->col_basic(static_cast<std::size_t>(dcol_[j]));
    return glp_get_col_stat(lp_.get(), static_cast<int>(j + 1)) == GLP_BS;
  }
  // ---- The compact LP (docs/model.md §9.7, batch mode) ----
  // The LP carries the classes' token totals, the reader counts of classes of several
  // adapters with several tokens each ("general" classes), the durations and the stage
  // time. The other classes' reader counts and the run flags are substituted by what the
  // node's box says of them: a count at 0 drops its term (and its tokens are 0), a count of
  // a one-adapter class at 1 is the constant 1 (and a token passes), any other count is its
  // tokens over n (exact when n = 1, a lower bound otherwise, since count >= tokens / n); a
  // flag at 1 is the constant 1, any other flag's term is dropped (a lower bound; the search
  // branches on a flag whose items the LP's point uses). Each row of the compact program is
  // a valid inequality for every plan of the node, so the exact bounds hold as before.

  // Reader r's tokens: kForm[r] = (c0, cp, cc) in c0 N + cp P + cc C; kFlagOf[r] the flag
  // (index into Compact::flags) that says whether any adapter reads it.
  static constexpr std::array<std::array<int, 3>, 5> kForm{{{1, -1, -1}, {1, 0, -1}, {0, 1, 1}, {0, 0, 1}, {0, 1, 0}}};
  static constexpr std::array<std::size_t, 5> kFlagOf{0, 4, 2, 3, 5};

  struct CompactClass {
    bool exact{false};  // its counts are substituted (one adapter, or one token per adapter)
    bool unit{false};   // one adapter of several tokens: its counts are 0 or 1, branched on
    std::int64_t total{0};
    std::vector<std::size_t> rows;    // the compact timing rows its variables appear in
    std::vector<int> pos;             // per compact row, its index in `rows` (-1: none)
    std::vector<Integer> dh;          // per `rows`: the substitution's current terms of h
    std::vector<Integer> base_p, base_c;  // per `rows`: P's and C's coefficients without them
    int sig{-1};                      // the states the terms are for
    std::size_t s_row{0};             // its rows P + C <= S_hi and -P - C <= -S_lo
  };

  void build_compact() {
    compact_ = true;
    const auto& cs = *mip_.compact;
    const std::size_t mo = mip_.h.size();
    subst_.assign(n_, 0);
    cls_.resize(cs.classes.size());
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      const auto& c = cs.classes[q];
      CompactClass& cc = cls_[q];
      cc.exact = c.k == 1 || c.n == 1;
      cc.unit = c.k == 1 && c.n > 1;
      cc.total = c.k * c.n;
      if (cc.exact) {
        for (const auto u : c.u) subst_[u] = 1;
      }
    }
    for (const auto f : cs.flags) subst_[f] = 2;
    // The rows kept: the timing rows and the rows of general classes.
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < mo; ++i) {
      const int tag = cs.row_tag[i];
      if (tag == -1 || (tag >= 0 && !cls_[static_cast<std::size_t>(tag)].exact)) kept.push_back(i);
    }
    sub_coef_.assign(n_, {});
    for (const auto i : kept) {
      const std::size_t ci = a_.size();
      // Scaled by the lcm of the n of the one-adapter classes whose counts the row holds, so
      // that count = tokens / n keeps the row's coefficients integers.
      Integer l = 1;
      for (std::size_t q = 0; q < cs.classes.size(); ++q) {
        if (!cls_[q].exact) continue;
        for (const auto u : cs.classes[q].u) {
          if (mip_.a[i][u] != 0) {
            const Integer nq(static_cast<long>(cs.classes[q].n));
            mpz_lcm(l.get_mpz_t(), l.get_mpz_t(), nq.get_mpz_t());
            break;
          }
        }
      }
      std::vector<Integer> row(n_);  // zeros that allocate nothing until set
      for (std::size_t j = 0; j < n_; ++j) {
        if (mip_.a[i][j] == 0) continue;
        const Integer v = mip_.a[i][j] * l;
        if (subst_[j] != 0) {
          sub_coef_[j].emplace_back(ci, v);
        } else {
          row[j] = v;
        }
      }
      a_.push_back(std::move(row));
      h_.push_back(mip_.h[i] * l);
    }
    const std::size_t mt = a_.size();
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      const auto& c = cs.classes[q];
      CompactClass& cc = cls_[q];
      cc.pos.assign(mt, -1);
      for (std::size_t ci = 0; ci < mt; ++ci) {
        bool in = a_[ci][c.p] != 0 || a_[ci][c.c] != 0;
        for (const auto u : c.u) {
          for (const auto& e : sub_coef_[u]) in = in || e.first == ci;
        }
        if (!in) continue;
        cc.pos[ci] = static_cast<int>(cc.rows.size());
        cc.rows.push_back(ci);
      }
      cc.dh.assign(cc.rows.size(), Integer(0));
      cc.sig = 0;  // every reader at 0: no terms
    }
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      CompactClass& cc = cls_[q];
      for (const auto ci : cc.rows) {
        cc.base_p.push_back(a_[ci][cs.classes[q].p]);
        cc.base_c.push_back(a_[ci][cs.classes[q].c]);
      }
    }
    // Per class, P + C <= S_hi and -P - C <= -S_lo.
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      const auto& c = cs.classes[q];
      cls_[q].s_row = a_.size();
      for (const int sign : {1, -1}) {
        std::vector<Integer> row(n_);
        row[c.p] = sign;
        row[c.c] = sign;
        a_.push_back(std::move(row));
        h_.push_back(Integer(0));
      }
    }
    flag_on_.assign(cs.flags.size(), 0);
    dirty_.assign(a_.size(), 0);
    root_lo_[cs.flags[1]] = 1;  // expand_gpu runs in every stage with LoRA work
    if (!propagate(root_lo_, root_up_)) root_empty_ = true;
    update_structure(root_lo_, root_up_);
  }

  // A reader's state in the node's box: 0 no adapter reads it, 1 (one-adapter class) its
  // adapter does, 2 either (its count relaxed to its tokens / n).
  [[nodiscard]] int reader_state(std::size_t q, int r, const std::vector<std::int64_t>& lo,
                                 const std::vector<std::int64_t>& up) const {
    const std::size_t u = mip_.compact->classes[q].u[static_cast<std::size_t>(r)];
    if (up[u] == 0) return 0;
    if (cls_[q].unit && lo[u] >= 1) return 1;
    return 2;
  }

  [[nodiscard]] int class_sig(std::size_t q, const std::vector<std::int64_t>& lo,
                              const std::vector<std::int64_t>& up) const {
    int sig = 0;
    for (int r = 4; r >= 0; --r) sig = sig * 3 + reader_state(q, r, lo, up);
    return sig;
  }

  // The bounds the node's readers put on S = P + C.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> s_range(std::size_t q, const std::vector<std::int64_t>& lo,
                                                              const std::vector<std::int64_t>& up) const {
    const auto& c = mip_.compact->classes[q];
    std::int64_t slo = 0, shi = c.device ? cls_[q].total : 0;
    if (cls_[q].exact) {
      const int ga = reader_state(q, 0, lo, up), da = reader_state(q, 2, lo, up);
      if (ga == 0) slo = std::max(slo, cls_[q].total);  // no token on the GPU's A: all on the device
      if (ga == 1) shi = std::min(shi, cls_[q].total - 1);
      if (da == 0) shi = 0;
      if (da == 1) slo = std::max<std::int64_t>(slo, 1);
    }
    return {slo, shi};
  }

  // Tightens a node's box by what its flags and readers imply (a flag at 0: none of its
  // readers; a reader at 1: its flag at 1; one adapter: g reads B too, p reads both, c
  // reads A too; readers' states bound P and C). False when the box holds no plan.
  bool propagate(std::vector<std::int64_t>& lo, std::vector<std::int64_t>& up) const {
    const auto& cs = *mip_.compact;
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t q = 0; q < cs.classes.size(); ++q) {
        const auto& c = cs.classes[q];
        for (std::size_t r = 0; r < 5; ++r) {
          if (r == 1 && !c.cxl) continue;  // fetch runs for the device-resident classes only
          const std::size_t v = cs.flags[kFlagOf[r]], u = c.u[r];
          if (up[v] == 0) up[u] = 0;
          if (lo[u] >= 1) lo[v] = std::max<std::int64_t>(lo[v], 1);
        }
        if (cls_[q].unit) {
          const std::size_t ga = c.u[0], gb = c.u[1], da = c.u[2], db = c.u[3], pp = c.u[4];
          if (lo[ga] >= 1 || lo[pp] >= 1) lo[gb] = std::max<std::int64_t>(lo[gb], 1);
          if (lo[db] >= 1 || lo[pp] >= 1) lo[da] = std::max<std::int64_t>(lo[da], 1);
          if (up[gb] == 0) up[ga] = up[pp] = 0;
          if (up[da] == 0) up[db] = up[pp] = 0;
        }
        if (cls_[q].exact) {
          const std::int64_t total = cls_[q].total;
          const int gb = reader_state(q, 1, lo, up), db = reader_state(q, 3, lo, up), pp = reader_state(q, 4, lo, up);
          if (gb == 0) lo[c.c] = std::max(lo[c.c], total);
          if (gb == 1) up[c.c] = std::min(up[c.c], total - 1);
          if (db == 0) up[c.c] = 0;
          if (db == 1) lo[c.c] = std::max<std::int64_t>(lo[c.c], 1);
          if (pp == 0) up[c.p] = 0;
          if (pp == 1) lo[c.p] = std::max<std::int64_t>(lo[c.p], 1);
        }
      }
    }
    for (std::size_t j = 0; j < n_; ++j) {
      if (lo[j] > up[j]) return false;
    }
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      const auto& c = cs.classes[q];
      const auto [slo, shi] = s_range(q, lo, up);
      if (slo > shi || slo > up[c.p] + up[c.c] || shi < lo[c.p] + lo[c.c]) return false;
    }
    return true;
  }

  // Brings the compact rows (exact, and the dense LP's once it exists) to the node's box.
  void update_structure(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    const auto& cs = *mip_.compact;
    for (std::size_t q = 0; q < cls_.size(); ++q) {
      CompactClass& cc = cls_[q];
      const auto& c = cs.classes[q];
      if (cc.exact) {
        const int sig = class_sig(q, lo, up);
        if (sig != cc.sig) {
          const std::size_t nr = cc.rows.size();
          std::vector<Integer>& np = scratch_p_;
          std::vector<Integer>& nc = scratch_c_;
          std::vector<Integer>& nh = scratch_h_;
          for (auto* v : {&np, &nc, &nh}) {
            v->resize(nr);
            for (auto& x : *v) mpz_set_ui(x.get_mpz_t(), 0);
          }
          Integer& t = scratch_t_;
          for (int r = 0, rest = sig; r < 5; ++r, rest /= 3) {
            const int st = rest % 3;
            if (st == 0) continue;
            const auto& form = kForm[static_cast<std::size_t>(r)];
            for (const auto& [ci, v] : sub_coef_[c.u[static_cast<std::size_t>(r)]]) {
              const auto pos = static_cast<std::size_t>(cc.pos[ci]);
              if (st == 1) {
                mpz_add(nh[pos].get_mpz_t(), nh[pos].get_mpz_t(), v.get_mpz_t());
                continue;
              }
              mpz_divexact_ui(t.get_mpz_t(), v.get_mpz_t(), static_cast<unsigned long>(c.n));
              if (form[1] > 0) mpz_add(np[pos].get_mpz_t(), np[pos].get_mpz_t(), t.get_mpz_t());
              if (form[1] < 0) mpz_sub(np[pos].get_mpz_t(), np[pos].get_mpz_t(), t.get_mpz_t());
              if (form[2] > 0) mpz_add(nc[pos].get_mpz_t(), nc[pos].get_mpz_t(), t.get_mpz_t());
              if (form[2] < 0) mpz_sub(nc[pos].get_mpz_t(), nc[pos].get_mpz_t(), t.get_mpz_t());
              if (form[0] != 0) {
                mpz_addmul_ui(nh[pos].get_mpz_t(), t.get_mpz_t(), static_cast<unsigned long>(cc.total));
              }
            }
          }
          for (std::size_t pos = 0; pos < nr; ++pos) {
            const std::size_t ci = cc.rows[pos];
            if (nh[pos] != cc.dh[pos]) {
              mpz_add(h_[ci].get_mpz_t(), h_[ci].get_mpz_t(), cc.dh[pos].get_mpz_t());
              mpz_sub(h_[ci].get_mpz_t(), h_[ci].get_mpz_t(), nh[pos].get_mpz_t());
              dirty_[ci] = 1;
            }
            mpz_add(a_[ci][c.p].get_mpz_t(), cc.base_p[pos].get_mpz_t(), np[pos].get_mpz_t());
            mpz_add(a_[ci][c.c].get_mpz_t(), cc.base_c[pos].get_mpz_t(), nc[pos].get_mpz_t());
          }
          std::swap(cc.dh, nh);  // the old terms become the next call's scratch space
          cc.sig = sig;
          if (dlp_) {  // (a class's P and C are never substituted: both are dense LP columns)
            for (const std::size_t j : {c.p, c.c}) {
              dense_col_.clear();
              for (const auto ci : cc.rows) {
                if (a_[ci][j] != 0) dense_col_.push_back(dense_entry(ci, j));
              }
              dense_col_.push_back(dense_entry(cc.s_row, j));
              dlp_->set_column(static_cast<std::size_t>(dcol_[j]), dense_col_);
            }
          }
        }
      }
      const auto [slo, shi] = s_range(q, lo, up);
      if (h_[cc.s_row] != shi) {
        h_[cc.s_row] = shi;
        dirty_[cc.s_row] = 1;
      }
      if (h_[cc.s_row + 1] != -slo) {
        h_[cc.s_row + 1] = -slo;
        dirty_[cc.s_row + 1] = 1;
      }
    }
    for (std::size_t f = 0; f < cs.flags.size(); ++f) {
      const char on = lo[cs.flags[f]] >= 1 ? 1 : 0;
      if (on == flag_on_[f]) continue;
      for (const auto& [ci, v] : sub_coef_[cs.flags[f]]) {
        if (on != 0) {
          h_[ci] -= v;
        } else {
          h_[ci] += v;
        }
        dirty_[ci] = 1;
      }
      flag_on_[f] = on;
    }
    for (std::size_t ci = 0; ci < dirty_.size(); ++ci) {
      if (dirty_[ci] == 0) continue;
      dirty_[ci] = 0;
      if (dlp_) set_dense_row(ci);
    }
  }

  // Run flags at neither bound are probed: a side whose LP's exact bound reaches the
  // incumbent (or whose box holds no plan) holds no better plan, and the flag takes the
  // other value in the node (no plan is lost, and the LP then counts the item's overhead
  // and latency). False when both sides are closed: the node holds no better plan.
  bool probe_flags(std::vector<std::int64_t>& lo, std::vector<std::int64_t>& up, StageSearchResult& out) {
    const auto& cs = *mip_.compact;
    for (const std::size_t v : cs.flags) {
      if (lo[v] != 0 || up[v] != 1) continue;
      for (const std::int64_t side : {std::int64_t{0}, std::int64_t{1}}) {
        child_lo_ = lo;
        child_up_ = up;
        child_lo_[v] = child_up_[v] = side;
        bool closed = !propagate(child_lo_, child_up_);
        if (!closed) {
          set_bounds(child_lo_, child_up_);
          ++out.nodes;
          const DenseLp::Status status = dlp_->solve();
          if (status == DenseLp::Status::kInfeasible) {
            closed = proved_empty(child_lo_, child_up_);
          } else if (status == DenseLp::Status::kOptimal) {
            closed = !(dual_bound(child_lo_, child_up_) < inc_);
          }
        }
        if (!closed) continue;
        if (side == 0) {
          lo[v] = 1;
        } else {
          up[v] = 0;
        }
        if (lo[v] > up[v] || !propagate(lo, up)) return false;
        break;
      }
    }
    return true;
  }

  // What the compact LP's point (P and C per class, the LP columns' values) leaves to
  // branch on: a flag at neither bound whose readers the point uses (branched first), or
  // the one-adapter classes' readers whose tokens / n are fractional, as (distance from
  // one half, variable) with their values in col_value_.
  template <class Value>
  std::optional<std::size_t> compact_candidates(const Value& value, const std::vector<std::int64_t>& lo,
                                                const std::vector<std::int64_t>& up,
                                                std::vector<std::pair<double, std::size_t>>& cands) {
    const auto& cs = *mip_.compact;
    const auto use = [&](std::size_t q, std::size_t r) {
      const auto& c = cs.classes[q];
      if (!cls_[q].exact) return value(c.u[r]);
      const auto& form = kForm[r];
      return (static_cast<double>(form[0] * cls_[q].total) + form[1] * value(c.p) + form[2] * value(c.c)) /
             static_cast<double>(c.n);
    };
    for (const std::size_t f : {std::size_t{0}, std::size_t{2}, std::size_t{3}, std::size_t{4}, std::size_t{5}}) {
      const std::size_t v = cs.flags[f];
      if (lo[v] != 0 || up[v] != 1) continue;
      for (std::size_t q = 0; q < cs.classes.size(); ++q) {
        for (std::size_t r = 0; r < 5; ++r) {
          if (kFlagOf[r] != f || (r == 1 && !cs.classes[q].cxl)) continue;
          if (up[cs.classes[q].u[r]] > 0 && use(q, r) > kIntegralTolerance) return v;
        }
      }
    }
    col_value_.resize(n_);
    for (std::size_t q = 0; q < cs.classes.size(); ++q) {
      if (!cls_[q].unit) continue;
      for (std::size_t r = 0; r < 5; ++r) {
        const std::size_t u = cs.classes[q].u[r];
        if (reader_state(q, static_cast<int>(r), lo, up) != 2) continue;
        const double x = use(q, r);
        if (x <= kIntegralTolerance || x >= 1 - kIntegralTolerance) continue;
        cands.emplace_back(std::abs(x - 0.5), u);
        col_value_[u] = x;
      }
    }
    return std::nullopt;
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
    if (compact_) update_structure(lo, up);
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0 || (compact_ && subst_[j] != 0) || (cur_lo_[j] == lo[j] && cur_up_[j] == up[j])) continue;
      cur_lo_[j] = lo[j];
      cur_up_[j] = up[j];
      const auto l = static_cast<double>(lo[j]), u = static_cast<double>(up[j]);
      if (dlp_) {
        dlp_->set_bounds(static_cast<std::size_t>(dcol_[j]), l, u);
        continue;
      }
      glp_set_col_bnds(lp_.get(), static_cast<int>(j + 1), lo[j] == up[j] ? GLP_FX : GLP_DB, l, u);
    }
  }

  // The node's fate: closed (by an exact bound, an exact LP or emptiness) or a variable to
  // branch on.
  Decision decide(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up,
                  const Rational& relative_gap, StageSearchResult& out) {
    Decision d;
    set_bounds(lo, up);
    bool optimal = false, empty = false;
    if (dlp_) {
      const DenseLp::Status st = dlp_->solve();
      optimal = st == DenseLp::Status::kOptimal;
      empty = st == DenseLp::Status::kInfeasible;
    } else {
      int ret = glp_simplex(lp_.get(), &parm_);
      if (ret == GLP_EBADB || ret == GLP_ESING || ret == GLP_ECOND) {
        advanced_basis();
        ret = glp_simplex(lp_.get(), &parm_);
      }
      const int status = ret == 0 ? glp_get_status(lp_.get()) : GLP_UNDEF;
      optimal = status == GLP_OPT;
      empty = status == GLP_NOFEAS && glp_bf_exists(lp_.get()) != 0;
    }
    if (empty && proved_empty(lo, up)) {
      d.closed = true;
      d.bound = inc_;  // empty: no point below anything
      return d;
    }
    if (!optimal) return exact(lo, up, relative_gap, out);  // unsure: the exact LP decides
    const double z = std::ldexp(lp_obj(), -time_shift_);
    d.z = z;
    // The exact bound from the LP's duals.
    d.bound = dual_bound(lo, up);
    if (closes(d, relative_gap)) return d;
    if (propose_ != nullptr && (proposals_ == 0 || out.nodes % kProposalEvery == 0)) {
      // A plan near the LP's point, found by the caller's local search.
      std::vector<double> x(n_);
      for (std::size_t j = 0; j < n_; ++j) x[j] = lp_col(j);
      if (auto p = (*propose_)(x, proposals_++ == 0)) {
        offer(*p);
        if (closes(d, relative_gap)) return d;
      }
    }
    const Rational cut = relative_gap > 0 ? inc_ - relative_gap * inc_ : inc_;
    // The integer variables fractional at the LP's point: the candidates for branching.
    std::size_t pick = n_;
    std::vector<std::pair<double, std::size_t>> cands;
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0 || (compact_ && subst_[j] != 0)) continue;
      const double v = lp_col(j);
      if (std::abs(v - std::round(v)) <= kIntegralTolerance) continue;
      cands.emplace_back(std::abs(v - std::floor(v) - 0.5), j);
      pick = j;
    }
    if (compact_) {
      const auto value = [this](std::size_t j) { return lp_col(j); };
      if (const auto flag = compact_candidates(value, lo, up, cands)) {
        // A flag whose items the point uses while the LP left out their overhead and
        // latency: its branch comes first, the side where they run first.
        d.branch = *flag;
        d.floor = 0;
        d.up_first = true;
        d.fixable = r_valid_;
        return d;
      }
      if (!cands.empty()) pick = cands.back().second;
    }
    const double incd = inc_.get_d();
    const bool tie = z >= (relative_gap > 0 ? cut.get_d() : incd) - kTieTolerance * std::abs(incd);
    if (pick == n_) {
      // Integral: the plan of these integers is evaluated exactly (a new incumbent if it is
      // better); the node's own bound is then settled exactly.
      std::vector<Integer> rounded(n_);
      for (std::size_t j = 0; j < n_; ++j) {
        if (real_[j] != 0 || (compact_ && subst_[j] != 0)) continue;
        rounded[j] = static_cast<long>(
            std::clamp(std::round(lp_col(j)), static_cast<double>(lo[j]), static_cast<double>(up[j])));
      }
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
    col_value_.resize(n_);
    for (const auto& [g, j] : cands) {
      if (!compact_ || subst_[j] == 0) col_value_[j] = lp_col(j);
    }
    std::sort(cands.begin(), cands.end());
    const double scale = std::max(std::abs(z), 1e-300);
    bool moved = false;  // (compact) the LP holds a child's box
    // A child's LP rise over z, relative (1 when the child is empty: as good as it gets).
    const auto child = [&](std::size_t j, std::int64_t l, std::int64_t u) {
      double rise = 0;
      if (dlp_) {
        child_lo_ = lo;
        child_up_ = up;
        child_lo_[j] = l;
        child_up_[j] = u;
        if (!propagate(child_lo_, child_up_)) return 1.0;
        set_bounds(child_lo_, child_up_);
        moved = true;
        const DenseLp::Status st = dlp_->solve(kStrongIterations);
        if (st == DenseLp::Status::kInfeasible) {
          rise = 1;
        } else if (st == DenseLp::Status::kOptimal || st == DenseLp::Status::kIterationLimit) {
          rise = std::max(0.0, std::ldexp(dlp_->value(), -time_shift_) - z) / scale;
        }
        return rise;
      }
      glp_prob* lp = lp_.get();
      glp_set_col_bnds(lp, static_cast<int>(j + 1), l == u ? GLP_FX : GLP_DB, static_cast<double>(l),
                       static_cast<double>(u));
      glp_smcp child_parm = parm_;
      child_parm.it_lim = kStrongIterations;
      const int ret = glp_simplex(lp, &child_parm);
      const int st = glp_get_status(lp);
      if ((ret == 0 && st == GLP_NOFEAS) || (ret == 0 && glp_get_prim_stat(lp) == GLP_NOFEAS)) {
        rise = 1;
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
        if (!dlp_) {  // GLPK's column back to the node's box
          glp_set_col_bnds(lp_.get(), static_cast<int>(j + 1), lo[j] == up[j] ? GLP_FX : GLP_DB,
                           static_cast<double>(lo[j]), static_cast<double>(up[j]));
        }
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
    if (moved) set_bounds(lo, up);
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
    if (dlp_) {
      dense_multipliers([this](std::size_t r) { return dlp_->row_dual(r); });
    } else {
      y_.resize(m_);
      for (std::size_t i = 0; i < m_; ++i) y_[i] = -glp_get_row_dual(lp_.get(), static_cast<int>(i + 1));
    }
    return multiplier_bound(y_, -time_shift_, true, lo, up);
  }

  // y_ from one multiplier w per row of the dense LP: a two-sided row's w is the multiplier
  // of its upper row and -w that of its lower one (negative ones are dropped).
  template <class PerDenseRow>
  void dense_multipliers(const PerDenseRow& w) {
    y_.resize(m_);
    for (std::size_t i = 0; i < m_; ++i) y_[i] = (dlow_[i] != 0 ? -1.0 : 1.0) * w(drow_[i]);
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
    r_.resize(n_);
    for (auto& v : r_) mpz_set_ui(v.get_mpz_t(), 0);  // (keeps their storage)
    if (objective) mpz_setbit(r_[mip_.stage_time].get_mpz_t(), static_cast<mp_bitcnt_t>(-q));
    Integer y;
    for (const Term& t : terms) {
      y = t.mant;
      mpz_mul_2exp(y.get_mpz_t(), y.get_mpz_t(), static_cast<mp_bitcnt_t>(t.exp - q));
      mpz_submul(neg_yh.get_mpz_t(), y.get_mpz_t(), h_[t.i].get_mpz_t());
      for (const auto j : rows_[t.i]) mpz_addmul(r_[j].get_mpz_t(), y.get_mpz_t(), a_[t.i][j].get_mpz_t());
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

  // Whether the LP's verdict "no point" is proved exactly: the row of the basis inverse at
  // the basic variable the dual simplex could not make feasible (its dual ray), taken
  // with either sign as Farkas multipliers.
  bool proved_empty(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    if (dlp_) {
      for (const double sign : {1.0, -1.0}) {
        dense_multipliers([&](std::size_t r) { return sign * dlp_->farkas_row()[r]; });
        if (multiplier_bound(y_, 0, false, lo, up) > 0) return true;
      }
      return false;
    }
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
  // arithmetic, as it is unless the LP is within its solver's tolerances of another, this is the
  // node's LP value exactly; otherwise still a valid bound. Nothing when the system is
  // singular.
  std::optional<Rational> basis_bound(const std::vector<std::int64_t>& lo, const std::vector<std::int64_t>& up) {
    std::vector<int> unknown_of_row(m_, -1);
    std::vector<std::size_t> rows_n;
    for (std::size_t i = 0; i < m_; ++i) {
      if (!lp_row_basic(i)) {
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
      if (!lp_col_basic(j)) continue;
      Eq e;
      e.rhs = j == mip_.stage_time ? Rational(-1) : Rational(0);
      eqs.push_back(std::move(e));
    }
    if (eqs.size() != rows_n.size()) return std::nullopt;
    {
      std::size_t q = 0;
      std::vector<int> eq_of_col(n_, -1);
      for (std::size_t j = 0; j < n_; ++j) {
        if (lp_col_basic(j)) eq_of_col[j] = static_cast<int>(q++);
      }
      for (const auto i : rows_n) {
        for (const auto j : rows_[i]) {
          if (eq_of_col[j] >= 0 && a_[i][j] != 0) {  // (a compact row may hold zeros)
            eqs[static_cast<std::size_t>(eq_of_col[j])].terms.emplace_back(unknown_of_row[i], Rational(a_[i][j]));
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
      sum -= y * Rational(h_[i]);
      for (const auto j : rows_[i]) r[j] += y * Rational(a_[i][j]);
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
  void offer(const std::vector<Integer>& x, bool screen = true) {
    const std::optional<Rational> v = value_(x, screen ? &inc_ : nullptr);
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
    if (compact_) exact_.reset();  // its rows change with the node
    if (!exact_) {
      std::vector<Rational> l(n_, Rational(0));
      exact_ = std::make_unique<BoxLp>(a_, h_, l, box_up_);
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
    if (compact_) {
      std::vector<std::pair<double, std::size_t>> cands;
      const auto value = [this](std::size_t j) { return exact_->x(j).get_d(); };
      std::optional<std::size_t> b = compact_candidates(value, lo, up, cands);
      if (!b && !cands.empty()) b = std::min_element(cands.begin(), cands.end())->second;
      if (b) {
        d.branch = *b;
        d.floor = 0;
        d.up_first = true;
        return d;
      }
    }
    std::size_t pick = n_;
    int pick_priority = 0;
    Rational pick_gap;
    for (std::size_t j = 0; j < n_; ++j) {
      if (real_[j] != 0 || (compact_ && subst_[j] != 0)) continue;
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
      std::vector<Integer> x(n_);
      for (std::size_t j = 0; j < n_; ++j) {
        if (real_[j] == 0) x[j] = exact_->x(j).get_num();
      }
      offer(x, false);  // (closes the node: evaluated whatever its double value says)
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
  std::vector<std::vector<Integer>> a_;  // the rows the LP and the exact bounds use (a x <= h)
  std::vector<Integer> h_;
  bool compact_{false};
  std::vector<char> subst_;              // per variable: 1 a substituted count, 2 a run flag
  std::vector<CompactClass> cls_;
  std::vector<std::vector<std::pair<std::size_t, Integer>>> sub_coef_;  // per substituted variable: (row, coefficient)
  std::vector<char> flag_on_, dirty_;
  std::vector<std::int64_t> root_lo_, root_up_;
  bool root_empty_{false};
  const StageProposal* propose_{nullptr};
  long proposals_{0};
  std::vector<std::int64_t> child_lo_, child_up_;
  std::vector<Integer> scratch_p_, scratch_c_, scratch_h_;  // update_structure's work space
  Integer scratch_t_;
  const StagePointValue& value_;
  std::vector<char> real_;
  std::vector<Rational> box_up_;
  std::vector<std::vector<std::size_t>> rows_;  // per row, its nonzero columns
  std::vector<int> row_shift_;
  int time_shift_{0};  // the double LP's times are the exact ones times 2^time_shift_
  std::unique_ptr<glp_prob, GlpkDeleter> lp_;
  std::unique_ptr<DenseLp> dlp_;  // the compact LP's solver (compact_), in place of GLPK
  std::vector<long> dcol_;        // per variable, its column in dlp_ (-1: substituted)
  std::vector<std::size_t> drow_; // per row, its row in dlp_
  std::vector<char> dlow_;        // per row: the lower side of a ranged row of dlp_
  std::vector<std::pair<std::size_t, double>> dense_col_;
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
                               bool reduced_cost_fixing, const StageProposal* propose) {
  Search search(mip, time_upper_s, value);
  search.set_proposal(propose);
  return search.run(incumbent, relative_gap, node_limit, reduced_cost_fixing);
}

}  // namespace lorasplit::detail
