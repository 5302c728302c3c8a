// From a description to the model's linear cases (docs/model.md §0.3). Inside a case
// every time is affine: a side's time is the sum of its items' occupancy (per token times
// the tokens of the columns that pass, plus the fixed part of each item that runs) and the
// latencies the description's rule charges; a chunked device side is the largest of one
// term per resource (its own work plus one chunk through every other part). Terms that
// depend on which columns are used (fixed parts, latencies, which parts exist) make the
// model piecewise: a description with cases_by_support has one set of cases per set of
// used columns. Case rows say which device term is the largest, so a plan's case gives
// exactly its times.
#include "model/formulate.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace lorasplit::detail {

Affine SymAffine::eval(const Params& p) const {
  Affine out(coef.size());
  for (std::size_t j = 0; j < coef.size(); ++j) out.coef[j] = coef[j].eval(p);
  out.constant = constant.eval(p);
  return out;
}

SymAffine operator+(const SymAffine& a, const SymAffine& b) {
  SymAffine out(a.coef.size());
  for (std::size_t j = 0; j < a.coef.size(); ++j) out.coef[j] = a.coef[j] + b.coef[j];
  out.constant = a.constant + b.constant;
  return out;
}

SymAffine operator-(const SymAffine& a, const SymAffine& b) {
  SymAffine out(a.coef.size());
  for (std::size_t j = 0; j < a.coef.size(); ++j) out.coef[j] = a.coef[j] - b.coef[j];
  out.constant = a.constant - b.constant;
  return out;
}

namespace {

// One term of a stage's device time: its affine time and what it is.
struct Part {
  std::string name;     // "sum", "x_in", "compute", "y_out", "link", "z_out", "credit"
  std::string formula;  // for the sync row's description
  SymAffine time;       // seconds, the stage's constant terms included
};

struct StageForm {
  SymAffine gpu;
  std::string gpu_formula;
  std::vector<Part> parts;  // empty: the device has nothing to do in this stage
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string columns_text(const std::vector<Column>& cols, const std::vector<char>& which) {
  std::string out;
  int count = 0;
  for (std::size_t j = 0; j < cols.size(); ++j) {
    if (j < which.size() && which[j] != 0) {
      out += fmt::format("{}{}", out.empty() ? "" : "+", cols[j].name);
      ++count;
    }
  }
  return count > 1 ? "(" + out + ")" : out;
}

std::string pattern_name(const std::vector<Column>& cols, const std::vector<int>& s) {
  std::string out;
  for (std::size_t j = 0; j < s.size(); ++j) {
    if (s[j] == 1) out += fmt::format("{}{}", out.empty() ? "" : "+", cols[j].name);
  }
  return out;
}

bool any_used(const std::vector<char>& which, const std::vector<int>& s) {
  for (std::size_t j = 0; j < which.size() && j < s.size(); ++j) {
    if (which[j] != 0 && s[j] != 0) return true;
  }
  return false;
}

bool is_fetch(const WorkItem& w) {
  for (const char c : w.columns) {
    if (c != 0) return false;
  }
  return true;
}

class Formulator {
 public:
  explicit Formulator(const Description& d) : d_(d), n_(d.columns.size()) {}

  SymFormulation run(const std::vector<int>* only) {
    SymFormulation f;
    f.name = d_.name;
    f.columns = d_.columns;
    if (!d_.cases_by_support) {
      add_cases(f, std::vector<int>(n_, -1));
      return f;
    }
    if (only != nullptr) {  // the cases of one set of used columns
      add_cases(f, *only);
      return f;
    }
    for (std::uint64_t mask = 1; mask < (std::uint64_t{1} << n_); ++mask) {
      std::vector<int> s(n_);
      for (std::size_t j = 0; j < n_; ++j) s[j] = static_cast<int>((mask >> j) & 1U);
      add_cases(f, s);
    }
    return f;
  }

 private:
  [[nodiscard]] bool active(const WorkItem& w, const std::vector<int>& s) const {
    return is_fetch(w) ? any_used(w.runs_for, s) : any_used(w.columns, s);
  }
  // The latency the rule charges to this item itself (kPerTransfer only).
  [[nodiscard]] bool charged(const WorkItem& w) const {
    return d_.latency == LatencyRule::kPerTransfer && w.transfer && !w.latency_hidden;
  }

  // The items' per-token terms on `side` of stage `st` (every item's, used or not: an
  // unused column is 0), and the fixed parts and charged latencies of the items that run.
  void side_terms(const Stage& st, Side side, const std::vector<int>& s, SymAffine& tokens, Expr& fixed,
                  int& latencies, std::string& fixed_text) const {
    for (const auto i : st.items) {
      const WorkItem& w = d_.items[i];
      if (w.side != side) continue;
      for (std::size_t j = 0; j < n_; ++j) {
        if (w.columns[j] != 0) tokens.coef[j] += w.seconds_for(j);
      }
      if (!active(w, s)) continue;
      if (!w.fixed_seconds.is_zero()) {
        fixed += w.fixed_seconds;
        fixed_text += fmt::format(" + {}", w.symbol);
      }
      if (charged(w)) {
        fixed += d_.latency_s;
        ++latencies;
      }
    }
  }

  // The chunked terms of the device's items among `items` (in the chain's order): one per
  // engine (a lane or the device's compute) that runs one of them, its items' work plus one
  // chunk through every other running one (docs/model.md §7.2). Each term's time holds the
  // per-token work and the chunk's fill; the caller adds the fixed parts.
  struct ChunkTerm {
    std::string name, own_text, fill_text;
    SymAffine time;
  };
  std::vector<ChunkTerm> chunk_terms(const std::vector<std::size_t>& items, const std::vector<int>& s) const {
    std::vector<std::size_t> engines;
    for (const auto i : items) {
      const WorkItem& w = d_.items[i];
      if (w.side != Side::kDevice || !w.chunked || !active(w, s)) continue;
      if (std::find(engines.begin(), engines.end(), w.resource) == engines.end()) engines.push_back(w.resource);
    }
    std::vector<ChunkTerm> out;
    for (const auto eng : engines) {
      ChunkTerm term{"", "", "", SymAffine(n_)};
      Expr fill;
      int on_eng = 0;
      for (const auto i : items) {
        const WorkItem& w = d_.items[i];
        if (w.side != Side::kDevice || !w.chunked) continue;
        if (w.resource == eng) {
          ++on_eng;
          term.name = w.part;
          for (std::size_t j = 0; j < n_; ++j) {
            if (w.columns[j] != 0) term.time.coef[j] += w.seconds_for(j);
          }
          term.own_text += fmt::format(" + {}*{}", w.symbol, columns_text(d_.columns, w.columns));
        } else if (active(w, s)) {
          fill += w.seconds_per_token;
          term.fill_text += fmt::format("{}{}", term.fill_text.empty() ? "" : "+", w.symbol);
        }
      }
      if (on_eng > 1) term.name = d_.resources[eng].name;
      term.time.constant = *d_.chunk_tokens * fill;
      out.push_back(std::move(term));
    }
    return out;
  }

  // A GPU-side item with a fixed time (a weight fetch) that runs on a lane the device's
  // transfers also use holds it from the stage's start (it is ready first and comes first
  // in the stage's order), so the device's items from its first one on that lane onwards
  // start no earlier than the fetch's end. For each such lane, one more device term: the
  // fetch, then the device's part of the chain from that item on, as its own terms are
  // built (docs/model.md §7.2, "lane shared with a fetch").
  void lane_parts(const Stage& st, const std::vector<int>& s, const bool stage_once, bool chunked,
                  std::vector<Part>& parts) const {
    for (std::size_t res = 0; res < d_.resources.size(); ++res) {
      Expr held;
      std::string held_text;
      for (const auto i : st.items) {
        const WorkItem& w = d_.items[i];
        if (w.side == Side::kGpu && w.resource == res && active(w, s) && !w.fixed_seconds.is_zero()) {
          held += w.fixed_seconds;
          held_text += fmt::format("{}{}", held_text.empty() ? "" : " + ", w.symbol);
        }
      }
      if (held_text.empty()) continue;
      // The device's items from its first running one on this lane, in the chain's order.
      std::vector<std::size_t> tail;
      for (const auto i : st.items) {
        const WorkItem& w = d_.items[i];
        if (w.side != Side::kDevice) continue;
        if (tail.empty() && !(w.resource == res && active(w, s))) continue;
        tail.push_back(i);
      }
      if (tail.empty()) continue;
      const std::string first = d_.items[tail.front()].part;
      // The one latency of stage 1 (transfer_latency off) stands for X in's: it is on this
      // chain only when the chain starts with the device's first item.
      std::size_t first_device = 0;
      while (d_.items[st.items[first_device]].side != Side::kDevice) ++first_device;
      const bool once = stage_once && tail.front() == st.items[first_device];
      SymAffine base(n_);
      base.constant = held;
      int lats = once ? 1 : 0;
      std::string fixed_text;
      for (const auto i : tail) {
        const WorkItem& w = d_.items[i];
        if (!active(w, s)) continue;
        if (!w.fixed_seconds.is_zero()) {
          base.constant += w.fixed_seconds;
          fixed_text += fmt::format(" + {}", w.symbol);
        }
        if (charged(w)) {
          base.constant += d_.latency_s;
          ++lats;
        }
      }
      if (once) base.constant += d_.latency_s;
      const std::string lat_text = lats == 0 ? "" : lats == 1 ? " + L" : fmt::format(" + {}L", lats);
      const std::string head = held_text + lat_text + fixed_text;
      if (!chunked) {
        SymAffine t = base;
        std::string text = head;
        for (const auto i : tail) {
          const WorkItem& w = d_.items[i];
          if (is_fetch(w)) continue;
          for (std::size_t j = 0; j < n_; ++j) {
            if (w.columns[j] != 0) t.coef[j] += w.seconds_for(j);
          }
          text += fmt::format(" + {}*{}", w.symbol, columns_text(d_.columns, w.columns));
        }
        parts.push_back({"fetch_" + first, text, std::move(t)});
        continue;
      }
      // Chunked: one term per lane or engine of the tail, its work plus one chunk through
      // the tail's other running parts (the parts before the tail overlap the fetch).
      for (auto& term : chunk_terms(tail, s)) {
        parts.push_back({"fetch_" + term.name,
                         fmt::format("{}{}{}", head, term.own_text,
                                     term.fill_text.empty() ? "" : " + c*(" + term.fill_text + ")"),
                         base + term.time});
      }
    }
  }

  StageForm stage_form(std::size_t index, const std::vector<int>& s) const {
    const Stage& st = d_.stages[index];
    StageForm out;
    // GPU side: its items one after the other (a fetch, then the compute that needs it).
    {
      out.gpu = SymAffine(n_);
      Expr fixed;
      int lats = 0;
      std::string fixed_text;
      side_terms(st, Side::kGpu, s, out.gpu, fixed, lats, fixed_text);
      out.gpu.constant += fixed;
      std::string terms;
      for (const auto i : st.items) {
        const WorkItem& w = d_.items[i];
        if (w.side == Side::kGpu && !is_fetch(w)) {
          terms += fmt::format("{}{}*{}", terms.empty() ? "" : " + ", w.symbol, columns_text(d_.columns, w.columns));
        }
      }
      if (!fixed_text.empty()) terms += lats > 0 ? fmt::format(" + (L{})", fixed_text) : fixed_text;
      out.gpu_formula = terms;
    }
    // Device side.
    bool works = false;
    for (const auto i : st.items) {
      const WorkItem& w = d_.items[i];
      if (w.side == Side::kDevice && active(w, s)) works = true;
    }
    if (!d_.cases_by_support) works = true;  // one case: every term is always in the formula
    SymAffine own(n_);
    Expr fixed;
    int lats = 0;
    std::string fixed_text;
    side_terms(st, Side::kDevice, s, own, fixed, lats, fixed_text);
    const bool once = index == 0 && (d_.latency == LatencyRule::kOnceInStage1Always ||
                                     (d_.latency == LatencyRule::kOnceInStage1 && works));
    if (once) {
      fixed += d_.latency_s;
      ++lats;
    }
    const std::string lat_text = lats == 0 ? "" : lats == 1 ? "L" : fmt::format("{}L", lats);
    const std::string f_text = lat_text + (lat_text.empty() && !fixed_text.empty() ? fixed_text.substr(3) : fixed_text);
    if (works) {
      bool chunked = false;
      for (const auto i : st.items) {
        const WorkItem& w = d_.items[i];
        chunked = chunked || (d_.chunk_tokens && w.side == Side::kDevice && w.chunked && active(w, s));
      }
      if (!chunked) {
        SymAffine t = own;
        t.constant += fixed;
        std::string text = f_text;
        for (const auto i : st.items) {
          const WorkItem& w = d_.items[i];
          if (w.side != Side::kDevice || is_fetch(w)) continue;
          text += fmt::format("{}{}*{}", text.empty() ? "" : " + ", w.symbol, columns_text(d_.columns, w.columns));
        }
        out.parts.push_back({"sum", text, std::move(t)});
      } else {
        // One term per resource that has a running chunked item (docs/model.md §7.2).
        SymAffine fixed_part(n_);
        fixed_part.constant = fixed;
        for (auto& term : chunk_terms(st.items, s)) {
          out.parts.push_back({term.name, fmt::format("{}{} + c*({})", f_text, term.own_text, term.fill_text),
                               fixed_part + term.time});
        }
      }
      lane_parts(st, s, once, chunked, out.parts);
    }
    // Model terms of the device side: in every part, or a part of their own.
    for (const auto& term : d_.terms) {
      if (term.stage != index || term.side != Side::kDevice) continue;
      SymAffine t(n_);
      bool used = false;
      for (std::size_t j = 0; j < n_; ++j) {
        t.coef[j] = term.coef[j];
        used = used || (!term.coef[j].is_zero() && s[j] != 0);
      }
      if (out.parts.empty()) {
        if (used) out.parts.push_back({term.name, term.formula, t});
        continue;
      }
      for (auto& part : out.parts) {
        part.time = part.time + t;
        part.formula += " " + term.formula;
      }
    }
    return out;
  }

  std::vector<SymRow> shared_rows(const std::vector<int>& s) const {
    std::vector<SymRow> rows;
    for (const auto& m : d_.memory) {
      SymRow r;
      r.name = m.name;
      r.kind = RowKind::kMemory;
      r.unit = "B";
      r.description = m.description;
      r.lhs = SymAffine(n_);
      std::string text;
      for (const auto& t : m.terms) {
        for (std::size_t j = 0; j < t.columns.size(); ++j) {
          if (t.columns[j] != 0) r.lhs.coef[j] += t.bytes_per_token;
        }
        const bool held = t.fixed_bytes.is_zero() || t.held_if_used.empty() || any_used(t.held_if_used, s);
        if (!t.fixed_bytes.is_zero() && held) {
          r.lhs.constant += t.fixed_bytes;
          r.description += t.description_suffix;
        }
        if (held && !t.text.empty()) text += fmt::format("{}{}", text.empty() ? "" : " + ", t.text);
      }
      r.formula = m.formula.empty() ? fmt::format("{} <= {}", text, m.capacity_text) : m.formula;
      r.rhs = SymAffine(n_);
      r.rhs.constant = m.capacity;
      rows.push_back(std::move(r));
    }
    for (const auto& limit : d_.token_limits) {
      SymAffine counted = tokens();
      if (!limit.columns.empty()) {
        for (std::size_t j = 0; j < n_; ++j) counted.coef[j] = limit.columns[j] != 0 ? 1 : 0;
      }
      SymRow r{limit.name, RowKind::kLimit, limit.formula, limit.description, "tokens", counted, SymAffine(n_)};
      r.rhs.constant = limit.bound;
      rows.push_back(std::move(r));
    }
    return rows;
  }

  [[nodiscard]] SymAffine tokens() const {
    SymAffine t(n_);
    for (auto& c : t.coef) c = 1;
    return t;
  }

  // The cases of one support: for each stage, which device term is the largest (if the
  // device works) and, relaxed, whether the GPU or the device sets the stage's time.
  void add_cases(SymFormulation& f, const std::vector<int>& s) const {
    std::vector<StageForm> forms;
    for (std::size_t i = 0; i < d_.stages.size(); ++i) forms.push_back(stage_form(i, s));
    struct Choice {
      std::optional<std::size_t> part;
      bool device_bound{false};
    };
    std::vector<std::vector<Choice>> choices;
    for (const auto& st : forms) {
      std::vector<Choice> out;
      if (st.parts.empty()) out.push_back({std::nullopt, false});
      for (std::size_t j = 0; j < st.parts.size(); ++j) {
        out.push_back({j, false});
        if (d_.relaxed_sync) out.push_back({j, true});
      }
      choices.push_back(std::move(out));
    }
    const std::vector<SymRow> shared = shared_rows(s);
    std::size_t combos = 1;
    for (const auto& c : choices) combos *= c.size();
    // The first stage's choice varies slowest.
    for (std::size_t k = 0; k < combos; ++k) {
      std::vector<Choice> pick(forms.size());
      std::size_t rest = k;
      for (std::size_t i = forms.size(); i-- > 0;) {
        pick[i] = choices[i][rest % choices[i].size()];
        rest /= choices[i].size();
      }
      SymCase c;
      c.support = s;
      c.tokens = tokens();
      c.batch_time = SymAffine(n_);
      std::vector<SymRow> case_rows;
      std::string regime;
      for (std::size_t i = 0; i < forms.size(); ++i) {
        const StageForm& st = forms[i];
        const Choice& ch = pick[i];
        const std::string sname = d_.stages[i].name;
        const std::string sup = upper(sname);
        const int number = static_cast<int>(i + 1);
        SymStage stage{sname, st.gpu, ch.part ? st.parts[*ch.part].time : SymAffine(n_)};
        if (!ch.part) {
          c.batch_time = c.batch_time + st.gpu;
          regime += fmt::format("; {}: GPU only", sname);
          c.stages.push_back(std::move(stage));
          continue;
        }
        const Part& top = st.parts[*ch.part];
        for (std::size_t j = 0; j < st.parts.size(); ++j) {
          if (j == *ch.part) continue;
          case_rows.push_back({fmt::format("case_{}_{}_ge_{}", sname, top.name, st.parts[j].name), RowKind::kCase,
                               fmt::format("{} >= {}", top.name, st.parts[j].name),
                               fmt::format("stage {}: the device's {} term is its largest", number, top.name), "s",
                               st.parts[j].time, top.time});
        }
        if (!d_.relaxed_sync) {
          const std::string name =
              st.parts.size() == 1 ? fmt::format("sync_{}", sname) : fmt::format("sync_{}_{}", sname, top.name);
          const std::string desc = !d_.stages[i].sync_description.empty()
                                       ? d_.stages[i].sync_description
                                       : fmt::format("stage {}: the device ({} = {}) finishes within the GPU's {}",
                                                     number, top.name, top.formula, st.gpu_formula);
          case_rows.push_back({name, RowKind::kSync, fmt::format("T_CXL_{} <= T_GPU_{}", sup, sup), desc, "s", top.time,
                               st.gpu});
          c.batch_time = c.batch_time + st.gpu;
          regime += fmt::format("; {}: device term {}", sname, top.name);
        } else if (!ch.device_bound) {
          case_rows.push_back({fmt::format("case_{}_gpu_bound", sname), RowKind::kCase,
                               fmt::format("T_CXL_{} <= T_GPU_{}", sup, sup),
                               fmt::format("stage {}: the GPU sets the stage time", number), "s", top.time, st.gpu});
          c.batch_time = c.batch_time + st.gpu;
          regime += fmt::format("; {}: GPU-bound (device term {})", sname, top.name);
        } else {
          case_rows.push_back({fmt::format("case_{}_device_bound", sname), RowKind::kCase,
                               fmt::format("T_GPU_{} <= T_CXL_{}", sup, sup),
                               fmt::format("stage {}: the device sets the stage time", number), "s", st.gpu, top.time});
          c.batch_time = c.batch_time + top.time;
          regime += fmt::format("; {}: device-bound ({})", sname, top.name);
        }
        c.stages.push_back(std::move(stage));
      }
      if (d_.sync_rows_first) {
        c.rows = case_rows;
        c.rows.insert(c.rows.end(), shared.begin(), shared.end());
      } else {
        c.rows = shared;
        c.rows.insert(c.rows.end(), case_rows.begin(), case_rows.end());
      }
      if (d_.max_latency) {
        SymRow r{d_.max_latency->name, RowKind::kLimit, d_.max_latency->formula, d_.max_latency->description, "s",
                 c.batch_time, SymAffine(n_)};
        r.rhs.constant = d_.max_latency->bound;
        c.rows.push_back(std::move(r));
      }
      c.case_name = d_.cases_by_support ? pattern_name(d_.columns, s) + regime : std::string();
      f.cases.push_back(std::move(c));
    }
  }

  const Description& d_;
  std::size_t n_;
};

}  // namespace

SymFormulation formulate(const Description& description) { return Formulator(description).run(nullptr); }

Formulation build_model_for(const Description& description, const Params& params, const Plan& plan) {
  std::vector<int> support(description.columns.size(), 0);
  for (std::size_t j = 0; j < support.size() && j < plan.b.size(); ++j) support[j] = plan.b[j] > 0 ? 1 : 0;
  const SymFormulation f = Formulator(description).run(&support);
  Formulation out;
  out.name = f.name;
  for (const auto& c : f.cases) out.cases.push_back(evaluate(f, c, params));
  return out;
}

Model evaluate(const SymFormulation& f, const SymCase& c, const Params& p) {
  Model m;
  m.name = f.name;
  m.columns = f.columns;
  m.support = c.support;
  m.case_name = c.case_name;
  m.tokens = c.tokens.eval(p);
  for (const auto& st : c.stages) m.stages.push_back({st.name, st.gpu.eval(p), st.device.eval(p)});
  m.batch_time = c.batch_time.eval(p);
  for (const auto& r : c.rows) {
    m.constraints.push_back({r.name, r.kind, r.formula, r.description, r.unit, r.lhs.eval(p), r.rhs.eval(p)});
  }
  m.block_tokens = p.block_tokens().get_num().get_si();
  return m;
}

}  // namespace lorasplit::detail

namespace lorasplit {

Formulation build_model(const Description& description, const Params& params) {
  const detail::SymFormulation f = detail::formulate(description);
  Formulation out;
  out.name = f.name;
  for (const auto& c : f.cases) out.cases.push_back(detail::evaluate(f, c, params));
  return out;
}

}  // namespace lorasplit
