#pragma once
// Reference peers: Dinkelbach iterations whose integer subproblems are solved by a general
// MILP solver in floating point, as such solvers are used in practice: GLPK's
// branch-and-cut (glp_intopt) or COIN-OR CBC (libCbc). Every returned point is judged in
// exact arithmetic by the caller. Two inputs: the model's raw coefficients (seconds next
// to bytes, as the formulation writes them) or lorasplit's primitive integer rows
// ("scaled"). For the pipeline model the peer solves every linear case and keeps the one
// it finds best, in its own floating-point judgement. Used by the cross-check test and the
// benchmark; not part of the library.
#include <lorasplit/lorasplit.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#ifdef LORASPLIT_HAVE_GLPK
#include <glpk.h>
#endif
#ifdef LORASPLIT_HAVE_CBC
#include <Cbc_C_Interface.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "solve/problem.hpp"

namespace lorasplit::testing {

enum class Peer { kGlpk, kCbc };

inline const char* peer_name(Peer p) { return p == Peer::kGlpk ? "GLPK" : "CBC"; }

struct PeerAnswer {
  bool solved{false};  ///< the peer returned a point it calls optimal
  Plan plan;
  int iterations{0};
  int crashes{0};      ///< subproblems on which the peer aborted (CBC's Clp asserts on some raw rows)
};

/// One MILP: max obj·y over integer y >= 0 (y_j <= 0 where fixed), rows a·y <= h, and
/// sum(y) >= min_sum. Returns y and the objective value, or nullopt (no answer).
struct Milp {
  std::array<double, 3> obj{};
  std::vector<std::array<double, 3>> a;
  std::vector<double> h;
  std::array<bool, 3> fixed{};
  double min_sum{1};
};

/// The answer of one MILP, and whether the solver process died on it.
struct MilpOutcome {
  std::optional<std::pair<std::array<double, 3>, double>> answer;
  bool crashed{false};
};

inline std::optional<std::pair<std::array<double, 3>, double>> solve_milp_here(const Milp& m, Peer peer) {
  const std::size_t rows = m.a.size();
  if (peer == Peer::kGlpk) {
#ifdef LORASPLIT_HAVE_GLPK
    glp_term_out(GLP_OFF);
    glp_prob* lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_cols(lp, 3);
    for (int j = 1; j <= 3; ++j) {
      const auto jj = static_cast<std::size_t>(j - 1);
      glp_set_col_kind(lp, j, GLP_IV);
      if (m.fixed[jj]) {
        glp_set_col_bnds(lp, j, GLP_FX, 0.0, 0.0);
      } else {
        glp_set_col_bnds(lp, j, GLP_LO, 0.0, 0.0);
      }
      glp_set_obj_coef(lp, j, m.obj[jj]);
    }
    glp_add_rows(lp, static_cast<int>(rows) + 1);
    for (std::size_t i = 0; i <= rows; ++i) {
      const int row = static_cast<int>(i) + 1;
      int ind[4] = {0, 1, 2, 3};
      double val[4] = {0, 1, 1, 1};
      if (i < rows) {
        glp_set_row_bnds(lp, row, GLP_UP, 0.0, m.h[i]);
        for (std::size_t j = 0; j < 3; ++j) val[j + 1] = m.a[i][j];
      } else {
        glp_set_row_bnds(lp, row, GLP_LO, m.min_sum, 0.0);
      }
      glp_set_mat_row(lp, row, 3, ind, val);
    }
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = 250;  // ms per subproblem (raw coefficients can stall branch-and-cut)
    const int rc = glp_intopt(lp, &parm);
    const int status = glp_mip_status(lp);
    std::optional<std::pair<std::array<double, 3>, double>> out;
    if (rc == 0 && (status == GLP_OPT || status == GLP_FEAS)) {
      out = std::make_pair(std::array<double, 3>{glp_mip_col_val(lp, 1), glp_mip_col_val(lp, 2), glp_mip_col_val(lp, 3)},
                           glp_mip_obj_val(lp));
    }
    glp_delete_prob(lp);
    return out;
#endif
  } else {
#ifdef LORASPLIT_HAVE_CBC
    Cbc_Model* model = Cbc_newModel();
    // Column-major matrix: rows of `a`, then the sum row.
    std::vector<CoinBigIndex> start{0};
    std::vector<int> index;
    std::vector<double> value;
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t i = 0; i < rows; ++i) {
        if (m.a[i][j] != 0) {
          index.push_back(static_cast<int>(i));
          value.push_back(m.a[i][j]);
        }
      }
      index.push_back(static_cast<int>(rows));
      value.push_back(1);
      start.push_back(static_cast<CoinBigIndex>(index.size()));
    }
    const double inf = std::numeric_limits<double>::infinity();
    std::array<double, 3> collb{0, 0, 0}, colub{};
    for (std::size_t j = 0; j < 3; ++j) colub[j] = m.fixed[j] ? 0.0 : inf;
    std::vector<double> rowlb(rows + 1, -inf), rowub(m.h);
    rowub.push_back(inf);
    rowlb[rows] = m.min_sum;
    Cbc_loadProblem(model, 3, static_cast<int>(rows) + 1, start.data(), index.data(), value.data(), collb.data(),
                    colub.data(), m.obj.data(), rowlb.data(), rowub.data());
    for (int j = 0; j < 3; ++j) Cbc_setInteger(model, j);
    Cbc_setObjSense(model, -1);  // maximise
    Cbc_setLogLevel(model, 0);
    Cbc_setMaximumSeconds(model, 0.25);
    Cbc_solve(model);
    std::optional<std::pair<std::array<double, 3>, double>> out;
    if (Cbc_isProvenOptimal(model) != 0) {
      const double* x = Cbc_getColSolution(model);
      out = std::make_pair(std::array<double, 3>{x[0], x[1], x[2]}, Cbc_getObjValue(model));
    }
    Cbc_deleteModel(model);
    return out;
#endif
  }
  return std::nullopt;
}

/// CBC runs in a forked child so that an assertion inside it (Clp aborts on some raw
/// coefficient rows) is counted as the peer's failure instead of ending the test.
inline MilpOutcome solve_milp(const Milp& m, Peer peer, bool isolate) {
  MilpOutcome out;
#ifdef LORASPLIT_HAVE_CBC
  if (peer == Peer::kCbc && isolate) {
    struct Wire {
      int ok;
      double x[3];
      double obj;
    };
    int fds[2];
    if (pipe(fds) != 0) return out;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Wire w{0, {0, 0, 0}, 0};
      if (const auto r = solve_milp_here(m, peer)) {
        w.ok = 1;
        for (std::size_t j = 0; j < 3; ++j) w.x[j] = r->first[j];
        w.obj = r->second;
      }
      const ssize_t wrote = write(fds[1], &w, sizeof w);
      _exit(wrote == static_cast<ssize_t>(sizeof w) ? 0 : 1);
    }
    close(fds[1]);
    Wire w{0, {0, 0, 0}, 0};
    const ssize_t got = read(fds[0], &w, sizeof w);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (pid < 0 || got != static_cast<ssize_t>(sizeof w) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      out.crashed = true;
      return out;
    }
    if (w.ok == 1) out.answer = std::make_pair(std::array<double, 3>{w.x[0], w.x[1], w.x[2]}, w.obj);
    return out;
  }
#endif
  out.answer = solve_milp_here(m, peer);
  return out;
}

/// Dinkelbach over one linear model (a case), the subproblems solved by `peer` (CBC in a
/// forked child unless `isolate` is false, as in the benchmark).
inline PeerAnswer milp_dinkelbach(const Model& model, bool scaled, Peer peer, int max_iterations = 30,
                                  bool isolate = true) {
  const std::int64_t k = model.block_tokens;
  const detail::IntProblem pb = detail::to_integer_form(model, k);  // rows in y: b = k (offset + y)
  Milp m;
  for (std::size_t j = 0; j < 3; ++j) m.fixed[j] = model.support[j] == 0;
  double offsets = 0;
  for (std::size_t j = 0; j < 3; ++j) offsets += pb.offset[j];
  m.min_sum = std::max(0.0, 1.0 - offsets);
  for (std::size_t i = 0; i < model.constraints.size(); ++i) {
    if (scaled) {
      const auto& r = pb.rows[i];
      m.a.push_back({r.a[0].get_d(), r.a[1].get_d(), r.a[2].get_d()});
      m.h.push_back(r.h_int.get_d());
    } else {  // the row as written, in seconds or bytes, with b = k (offset + y) substituted in doubles
      const Affine g = model.constraints[i].lhs - model.constraints[i].rhs;
      std::array<double, 3> a{};
      double h = -g.constant.get_d();
      for (std::size_t j = 0; j < 3; ++j) {
        a[j] = g.coef[j].get_d() * static_cast<double>(k);
        h -= a[j] * pb.offset[j];
      }
      m.a.push_back(a);
      m.h.push_back(h);
    }
  }
  const auto to_plan = [&](const std::array<double, 3>& y) {
    Plan p;
    p.b.resize(3);
    for (std::size_t j = 0; j < 3; ++j) p.b[j] = k * (pb.offset[j] + std::llround(y[j]));
    return p;
  };
  PeerAnswer out;
  Rational lambda = 0;  // exact, from the last point
  for (int it = 0; it < max_iterations; ++it) {
    const double l = lambda.get_d();
    for (std::size_t j = 0; j < 3; ++j) {
      m.obj[j] = (model.tokens.coef[j].get_d() - l * model.batch_time.coef[j].get_d()) * static_cast<double>(k);
    }
    const MilpOutcome outcome = solve_milp(m, peer, isolate);
    ++out.iterations;
    if (outcome.crashed) {
      ++out.crashes;
      out.solved = false;
      return out;
    }
    const auto& got = outcome.answer;
    if (!got) return out;
    const Plan p = to_plan(got->first);
    out.solved = true;
    const Rational t = model.batch_time.eval(p);
    if (t <= 0) return out;
    const Rational next = model.tokens.eval(p) / t;
    // The peer's own stopping test, in its own (floating) objective: no improvement left.
    const double obj = got->second + (model.tokens.constant.get_d() - l * model.batch_time.constant.get_d());
    if (it > 0 && (obj <= 1e-9 * std::max(1.0, std::abs(model.tokens.eval(p).get_d())) || next <= lambda)) {
      if (next > lambda) out.plan = p;
      return out;
    }
    out.plan = p;
    lambda = next;
  }
  return out;
}

/// The peer on a whole model: every case, keeping the answer the peer itself rates best
/// (its ratio in floating point).
inline PeerAnswer milp_dinkelbach(const Formulation& f, bool scaled, Peer peer) {
  PeerAnswer best;
  double best_ratio = -1;
  for (const auto& m : f.cases) {
    const PeerAnswer a = milp_dinkelbach(m, scaled, peer);
    best.iterations += a.iterations;
    best.crashes += a.crashes;
    if (!a.solved || a.plan.tokens() == 0) continue;
    const double t = m.batch_time.eval(a.plan).get_d();
    const double ratio = t > 0 ? static_cast<double>(a.plan.tokens()) / t : -1;
    if (ratio > best_ratio) {
      best_ratio = ratio;
      best.plan = a.plan;
      best.solved = true;
    }
  }
  return best;
}

/// The GLPK peer on one model (the benchmark's and the earlier test's entry point).
inline PeerAnswer glpk_dinkelbach(const Model& model, bool scaled, int max_iterations = 30) {
  return milp_dinkelbach(model, scaled, Peer::kGlpk, max_iterations);
}

}  // namespace lorasplit::testing
