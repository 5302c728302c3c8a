#pragma once
// A reference peer: Dinkelbach iterations whose integer subproblems are solved by GLPK's
// branch-and-cut (glp_intopt) in floating point, as a general MILP solver would be used.
// Every returned point is then judged in exact arithmetic by the caller. Two inputs:
// the model's raw coefficients (seconds next to bytes, as the formulation writes them)
// or lorasplit's primitive integer rows ("scaled"). Used by the cross-check test and the
// benchmark; not part of the library.
#include <glpk.h>
#include <lorasplit/lorasplit.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <vector>

#include "solve/problem.hpp"

namespace lorasplit::testing {

struct PeerAnswer {
  bool solved{false};  ///< GLPK returned a point it calls optimal
  Plan plan;
  int iterations{0};
};

inline PeerAnswer glpk_dinkelbach(const Model& model, bool scaled, int max_iterations = 30) {
  const detail::IntProblem pb = detail::to_integer_form(model, 1);
  // Rows and objective as doubles: raw (lhs - rhs <= 0 in s or B) or primitive integers.
  struct RowD {
    std::array<double, 3> a;
    double h;
  };
  std::vector<RowD> rows;
  for (std::size_t i = 0; i < model.constraints.size(); ++i) {
    if (scaled) {
      const auto& r = pb.rows[i];
      rows.push_back({{r.a[0].get_d(), r.a[1].get_d(), r.a[2].get_d()}, r.h_int.get_d()});
    } else {
      const Affine g = model.constraints[i].lhs - model.constraints[i].rhs;
      rows.push_back({{g.coef[0].get_d(), g.coef[1].get_d(), g.coef[2].get_d()}, -g.constant.get_d()});
    }
  }
  const std::array<double, 3> n{model.tokens.coef[0].get_d(), model.tokens.coef[1].get_d(),
                                model.tokens.coef[2].get_d()};
  const std::array<double, 3> d{model.batch_time.coef[0].get_d(), model.batch_time.coef[1].get_d(),
                                model.batch_time.coef[2].get_d()};
  PeerAnswer out;
  Rational lambda = 0;  // exact, from the last point
  glp_term_out(GLP_OFF);
  for (int it = 0; it < max_iterations; ++it) {
    glp_prob* lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_cols(lp, 3);
    const double l = lambda.get_d();
    for (int j = 1; j <= 3; ++j) {
      glp_set_col_kind(lp, j, GLP_IV);
      glp_set_col_bnds(lp, j, GLP_LO, 0.0, 0.0);
      glp_set_obj_coef(lp, j, n[static_cast<std::size_t>(j - 1)] - l * d[static_cast<std::size_t>(j - 1)]);
    }
    glp_add_rows(lp, static_cast<int>(rows.size()) + 1);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const int row = static_cast<int>(i) + 1;
      glp_set_row_bnds(lp, row, GLP_UP, 0.0, rows[i].h);
      int ind[4] = {0, 1, 2, 3};
      double val[4] = {0, rows[i].a[0], rows[i].a[1], rows[i].a[2]};
      glp_set_mat_row(lp, row, 3, ind, val);
    }
    {  // at least one token
      const int row = static_cast<int>(rows.size()) + 1;
      glp_set_row_bnds(lp, row, GLP_LO, 1.0, 0.0);
      int ind[4] = {0, 1, 2, 3};
      double val[4] = {0, 1, 1, 1};
      glp_set_mat_row(lp, row, 3, ind, val);
    }
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = 2000;
    const int rc = glp_intopt(lp, &parm);
    const int status = glp_mip_status(lp);
    ++out.iterations;
    if (rc != 0 || (status != GLP_OPT && status != GLP_FEAS)) {
      glp_delete_prob(lp);
      return out;
    }
    Plan p;
    for (int j = 1; j <= 3; ++j) p.b[static_cast<std::size_t>(j - 1)] = std::llround(glp_mip_col_val(lp, j));
    const double obj = glp_mip_obj_val(lp);
    glp_delete_prob(lp);
    out.solved = true;
    const Rational t = model.batch_time.eval(p);
    if (t <= 0) return out;
    const Rational next = model.tokens.eval(p) / t;
    // GLPK's own stopping test, in its own (floating) objective: no improvement left.
    if (it > 0 && (obj <= 1e-9 * std::max(1.0, std::abs(model.tokens.eval(p).get_d())) || next <= lambda)) {
      if (next > lambda) out.plan = p;
      return out;
    }
    out.plan = p;
    lambda = next;
  }
  return out;
}

}  // namespace lorasplit::testing
