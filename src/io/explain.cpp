// explain, export --format lp, check --plan.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <lorasplit/report.hpp>

#include <nlohmann/json.hpp>

#include <cctype>

#include "solve/problem.hpp"

namespace lorasplit {
namespace {

using Names = std::vector<Column>;

// "c1 b1 + c2 b2 + c3 b3 + c0" with exact coefficients, zero terms dropped.
std::string affine_text(const Affine& f, const Names& col) {
  std::string out;
  for (std::size_t j = 0; j < f.coef.size(); ++j) {
    if (f.coef[j] == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : " + ", format_exact(f.coef[j]), col[j].name);
  }
  if (f.constant != 0 || out.empty()) out += fmt::format("{}{}", out.empty() ? "" : " + ", format_exact(f.constant));
  return out;
}

std::string int_row_text(const std::vector<Integer>& a, const Names& col) {
  std::string out;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] == 0) continue;
    const bool neg = a[j] < 0;
    const Integer mag = neg ? Integer(-a[j]) : a[j];
    if (out.empty()) {
      out += fmt::format("{}{} {}", neg ? "-" : "", mag.get_str(), col[j].name);
    } else {
      out += fmt::format(" {} {} {}", neg ? "-" : "+", mag.get_str(), col[j].name);
    }
  }
  return out.empty() ? "0 " + col.front().name : out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "b1, b2, b3".
std::string names_text(const Names& col, std::string_view sep) {
  std::string out;
  for (const auto& c : col) out += fmt::format("{}{}", out.empty() ? "" : sep, c.name);
  return out;
}

}  // namespace

std::string render_explain(const Analysis& a) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  const Model& m = a.model;
  const Names& col = m.columns;
  line(fmt::format("{} model, {} domain{}", m.name, to_string(a.options.domain),
                   m.block_tokens > 1 ? fmt::format(", blocks of {} tokens", m.block_tokens) : std::string()));
  line("");
  line("MAXIMIZE throughput = tokens / batch_time   [tokens/s]");
  line(fmt::format("  tokens     = {}   [tokens]", affine_text(m.tokens, col)));
  std::string gpu_sum, stage_sum;
  for (const auto& st : m.stages) {
    gpu_sum += fmt::format("{}T_GPU_{}", gpu_sum.empty() ? "" : " + ", upper(st.name));
    stage_sum += fmt::format("{}T_{}", stage_sum.empty() ? "" : " + ", upper(st.name));
  }
  if (m.case_name.empty()) {
    line(fmt::format("  batch_time = {} = {}   [s]", gpu_sum, affine_text(m.batch_time, col)));
  } else {
    line(fmt::format("  the linear case that holds the optimum: {}", m.case_name));
    line(fmt::format("  batch_time = {} = {}   [s]", stage_sum, affine_text(m.batch_time, col)));
  }
  for (const auto& st : m.stages) {
    line(fmt::format("  T_GPU_{} = {}   [s]", upper(st.name), affine_text(st.gpu, col)));
    line(fmt::format("  T_CXL_{} = {}   [s]", upper(st.name), affine_text(st.device, col)));
  }
  line("SUBJECT TO (exact, in the row's unit)");
  for (const auto& c : m.constraints) {
    line(fmt::format("  {:<12} {} <= {}   [{}]   ({})", c.name + ":", affine_text(c.lhs, col), affine_text(c.rhs, col),
                     c.unit, c.formula));
  }
  const char* dom = a.options.domain == Domain::kInteger    ? "integer"
                    : a.options.domain == Domain::kBinary   ? "in {0, 1} blocks"
                                                            : "real";
  line(fmt::format("  {} >= 0, {}{}", names_text(col, ", "), dom,
                   m.block_tokens > 1 ? fmt::format(", multiples of {}", m.block_tokens) : std::string()));
  if (!m.case_name.empty()) {
    std::string used;
    for (std::size_t j = 0; j < col.size(); ++j) {
      used += fmt::format("{}{} {}", used.empty() ? "" : ", ", col[j].name, m.support[j] == 0 ? "= 0" : ">= one block");
    }
    line("  paths of this case: " + used);
  }
  line("");
  // The integer form as the solver used it, from the certificate (not recomputed here).
  if (const auto& form = a.result.certificate.integer_form) {
    line("Integer form used by the solver (each row times the least common denominator of its");
    line("coefficients, divided by their gcd; right-hand sides rounded down, exact for integer y)");
    Names ycol = col;
    bool identity = form->block_tokens == 1;
    for (const int o : form->offset) identity = identity && o == 0;
    if (!identity) {
      std::string subst;
      for (std::size_t j = 0; j < col.size(); ++j) {
        ycol[j].name = "y_" + col[j].name;
        const std::string k = form->block_tokens == 1 ? "" : fmt::format("{}*", form->block_tokens);
        subst += fmt::format("{}{} = {}{}", subst.empty() ? "" : ", ", col[j].name, k,
                             form->offset[j] == 0 ? ycol[j].name : fmt::format("(1 + {})", ycol[j].name));
      }
      line(fmt::format("  over whole blocks y >= 0: {}", subst));
    }
    for (const auto& row : form->rows) {
      line(fmt::format("  {:<12} {} <= {}{}", row.name + ":", int_row_text(row.a, ycol), row.h.get_str(),
                       row.removed ? "   (removed by presolve: implied)" : ""));
    }
    for (std::size_t j = 0; j < col.size(); ++j) {
      if (form->fixed_zero[j]) line(fmt::format("  {} = 0 (fixed by the case, the caller or presolve)", ycol[j].name));
    }
  } else {
    line(fmt::format("The {} domain is solved on the rows above (docs/model.md {}); no integer form is used",
                     to_string(a.options.domain), a.options.domain == Domain::kBinary ? "§3.6" : "§3.8"));
  }
  line("");
  const Certificate& c = a.result.certificate;
  line("Solver path");
  line("  method: " + c.method);
  for (const auto& p : c.presolve) line("  presolve: " + to_string(p, col));
  if (!c.reduced_problem.empty()) line("  reduced problem: " + c.reduced_problem);
  for (const auto& cs : c.cases) line("  case " + cs);
  int i = 0;
  for (const auto& st : c.steps) {
    line(fmt::format("  subproblem {}: lambda = {} tokens/s ({}): max tokens - lambda*batch_time = {} tokens at "
                     "({}) = ({})",
                     ++i, fmt::format("{:.12g}", to_double(st.lambda_tokens_per_s)),
                     format_fraction(st.lambda_tokens_per_s), format_exact(st.max_tokens), names_text(col, ", "),
                     fmt::join(st.argmax.b, ", ")));
  }
  if (a.result.status == SolveStatus::kOptimal) {
    line(fmt::format("  optimum: ({}) at {} tokens/s; the last subproblem's maximum is {}, so no split does better",
                     fmt::join(a.result.plan.b, ", "),
                     format_fraction(a.result.throughput_tokens_per_s), format_exact(c.final_subproblem_max)));
    if (c.iteration_bound > 0) {
      line(fmt::format("  {} subproblems; the proven bound for this instance is {}", c.iterations, c.iteration_bound));
    }
  } else {
    line("  infeasible: " + a.infeasibility_reason);
  }
  return out;
}

std::string render_lp(const Analysis& a) {
  const Model& m = a.model;
  const Names& col = m.columns;
  const std::size_t n = m.size();
  Model in_b = m;  // rows in b itself; the case's support becomes bounds below
  in_b.support.assign(n, -1);
  const detail::IntProblem pb = detail::to_integer_form(in_b, 1);
  // λ* = num/den in the scaled units of (pb.p, pb.q); 0 when infeasible (maximise tokens).
  Rational lambda_scaled = 0;
  if (a.result.status == SolveStatus::kOptimal) {
    lambda_scaled = a.result.throughput_tokens_per_s * pb.scale_n / pb.scale_d;
  }
  const Integer num = lambda_scaled.get_num(), den = lambda_scaled.get_den();
  std::vector<Integer> obj(n);
  for (std::size_t j = 0; j < n; ++j) obj[j] = den * pb.p[j] - num * pb.q[j];
  std::string out;
  out += fmt::format("\\ lorasplit export: the final Dinkelbach step of the {} model ({} domain)\n", m.name,
                     to_string(a.options.domain));
  if (!m.case_name.empty()) {
    out += fmt::format("\\ restricted to the linear case that holds the optimum: {}\n", m.case_name);
  }
  if (a.result.status == SolveStatus::kOptimal) {
    out += fmt::format("\\ lambda* = {} tokens/s; objective = {} * tokens*{} - {} * batch_time*{} (integer units)\n",
                       format_fraction(a.result.throughput_tokens_per_s), den.get_str(), pb.scale_n.get_str(),
                       num.get_str(), pb.scale_d.get_str());
    out += "\\ Its maximum is exactly 0, reached by the splits whose throughput is lambda*.\n";
  } else {
    out += "\\ The instance is INFEASIBLE: no split with tokens > 0 satisfies these constraints (lambda = 0,\n";
    out += "\\ objective = tokens). A solver finds no feasible point other than the empty split.\n";
  }
  if (pb.p0 != 0 || pb.q0 != 0) out += "\\ (constant objective terms omitted: they do not move the argmax)\n";
  // Every column appears in the objective, in order, so readers number them as the model does.
  std::string objective;
  for (std::size_t j = 0; j < n; ++j) {
    const bool neg = obj[j] < 0;
    objective += fmt::format("{}{} {}", j == 0 ? (neg ? "-" : "") : (neg ? " - " : " + "),
                             (neg ? Integer(-obj[j]) : obj[j]).get_str(), col[j].name);
  }
  out += fmt::format("Maximize\n obj: {}\nSubject To\n", objective);
  for (const auto& row : pb.rows) {
    bool all_zero = true;
    for (const auto& x : row.a) all_zero = all_zero && x == 0;
    if (all_zero) continue;
    out += fmt::format(" {}: {} <= {}\n", row.name, int_row_text(row.a, col), row.h_int.get_str());
  }
  const std::int64_t k = m.block_tokens;
  out += fmt::format(" nonempty: {} >= {}\n", names_text(col, " + "), k);
  if (k > 1) {
    for (std::size_t j = 0; j < n; ++j) {
      out += fmt::format(" block_{}: {} - {} y{} = 0\n", col[j].name, col[j].name, k, j + 1);
    }
  }
  out += "Bounds\n";
  for (std::size_t j = 0; j < n; ++j) {
    const std::string& c = col[j].name;
    if (m.support[j] == 0) {
      out += fmt::format(" {} = 0\n", c);
    } else if (m.support[j] == 1 && a.options.domain == Domain::kBinary) {
      out += fmt::format(" {} = {}\n", c, k);
    } else if (m.support[j] == 1) {
      out += fmt::format(" {} >= {}\n", c, k);
    } else if (a.options.domain == Domain::kBinary) {
      out += fmt::format(" 0 <= {} <= {}\n", c, k);
    } else {
      out += fmt::format(" {} >= 0\n", c);
    }
  }
  out += "General\n " + names_text(col, " ");
  if (k > 1) {
    for (std::size_t j = 0; j < n; ++j) out += fmt::format(" y{}", j + 1);
  }
  out += "\nEnd\n";
  return out;
}

PlanCheck check_plan(const Model& model, const Plan& plan) {
  PlanCheck c;
  c.feasible = is_feasible(model, plan);
  for (const auto& row : model.constraints) {
    if (row.lhs.eval(plan) > row.rhs.eval(plan)) c.violated.push_back(row.name);
  }
  for (const auto b : plan.b) {
    if (b < 0) c.violated.emplace_back("nonnegative");
    if (b % model.block_tokens != 0) c.violated.emplace_back("block");
  }
  c.throughput_tokens_per_s = throughput_tokens_per_s(model, plan);
  return c;
}

Result<CheckedPlan> check_plan(const Formulation& f, const Plan& plan) {
  const Model& first = f.cases.front();
  if (Status st = validate_plan(plan); !st) return st.error();
  const std::string text = fmt::format("{}", fmt::join(plan.b, ","));
  const std::int64_t k = first.block_tokens;
  for (std::size_t j = 0; j < plan.b.size(); ++j) {
    if (plan.b[j] % k == 0) continue;
    return Error{ErrorCode::kBadOption, "plan", text,
                 fmt::format("plan = '{}': {} = {} is not a whole number of blocks of {} tokens (lora.block_tokens); "
                             "a plan that is not a non-negative whole number of blocks belongs to no case",
                             text, first.columns[j].name, plan.b[j], k)};
  }
  const Model* described = describing_case(f, plan);
  CheckedPlan out{described != nullptr ? *described : first, {}};
  out.check = check_plan(out.model, plan);
  return out;
}

std::string render_plan_check(const Model& model, const Plan& plan, const PlanCheck& c, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    for (std::size_t i = 0; i < plan.b.size(); ++i) j[model.columns[i].name] = plan.b[i];
    j["feasible"] = c.feasible;
    j["violated"] = c.violated;
    j["throughput_tokens_per_s"] = to_double(c.throughput_tokens_per_s);
    j["throughput_tokens_per_s_exact"] = format_fraction(c.throughput_tokens_per_s);
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : model.constraints) {
      const Rational slack = row.rhs.eval(plan) - row.lhs.eval(plan);
      rows.push_back({{"name", row.name}, {"slack", to_double(slack)}, {"slack_exact", format_fraction(slack)}});
    }
    j["constraints"] = rows;
    return j.dump(2) + "\n";
  }
  std::string out = fmt::format("plan ({}) = ({}): {}\n", names_text(model.columns, ", "), fmt::join(plan.b, ", "),
                                c.feasible ? "feasible in exact arithmetic" : "INFEASIBLE in exact arithmetic");
  for (const auto& row : model.constraints) {
    const Rational slack = row.rhs.eval(plan) - row.lhs.eval(plan);
    out += fmt::format("  {:<12} slack {:>24} {}{}\n", row.name, format_number(slack), row.unit,
                       slack < 0 ? "   VIOLATED" : "");
  }
  out += fmt::format("  throughput {} tokens/s (exact {})\n", fmt::format("{:.12g}", to_double(c.throughput_tokens_per_s)),
                     format_fraction(c.throughput_tokens_per_s));
  return out;
}

}  // namespace lorasplit
