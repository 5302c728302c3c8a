// What `lorasplit simulate` writes: the report, its JSON, a Chrome trace and an SVG Gantt.
#include <lorasplit/simulate.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "io/format.hpp"
#include "sim/timeline.hpp"

namespace lorasplit {
namespace {

double us(const Rational& s) { return to_double(s) * 1e6; }

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) for `span` seconds and about 8 ticks,
// and the unit to print it in.
std::pair<double, std::pair<double, const char*>> ticks(double span) {
  const double raw = span > 0 ? span / 8 : 1;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::pair<double, const char*> unit{1.0, "s"};
  if (span < 1e-6) {
    unit = {1e9, "ns"};
  } else if (span < 1e-3) {
    unit = {1e6, "us"};
  } else if (span < 1) {
    unit = {1e3, "ms"};
  }
  return {step, unit};
}

}  // namespace

namespace detail {

std::string timeline_trace_json(const Timeline& tl) {
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < tl.tracks.size(); ++i) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", i + 1}, {"args", {{"name", tl.tracks[i]}}}});
  }
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "lorasplit simulate"}}}});
  for (const auto& b : tl.bars) {
    const auto it = std::find(tl.tracks.begin(), tl.tracks.end(), b.resource);
    const std::size_t tid = static_cast<std::size_t>(it - tl.tracks.begin()) + 1;
    nlohmann::ordered_json args = b.args;
    args["start_s_exact"] = format_fraction(b.start_s);
    args["end_s_exact"] = format_fraction(b.end_s);
    args["done_s_exact"] = format_fraction(b.done_s);
    events.push_back({{"name", b.name},
                      {"cat", b.category},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", tid},
                      {"ts", us(b.start_s)},
                      {"dur", us(b.end_s - b.start_s)},
                      {"args", args}});
  }
  nlohmann::ordered_json j;
  j["traceEvents"] = events;
  j["displayTimeUnit"] = "ns";
  j["otherData"] = tl.other;
  return j.dump(1) + "\n";
}

std::string timeline_gantt_svg(const Timeline& tl) {
  const double span = std::max(to_double(tl.span_s), 1e-30);
  const auto [step, unit] = ticks(span);
  const double left = 130, width = 900, row = 34, top = 40;
  const double rows_h = row * static_cast<double>(tl.tracks.size());
  const double height = top + rows_h + 100;
  const auto x = [&](double t) { return left + width * t / span; };
  std::string out;
  out += fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
      left + width + 30, height);
  out += fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\">{}</text>\n", left, xml_escape(tl.title));
  static const char* const kFill[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"};
  const auto colour = [](std::size_t c) { return kFill[c % 6]; };
  constexpr double kCharPx = 6.6;  // width of one character at 11 px, for labels that fit
  for (std::size_t i = 0; i < tl.tracks.size(); ++i) {
    const double y = top + row * static_cast<double>(i);
    out += fmt::format("<text x=\"10\" y=\"{}\">{}</text>\n", y + row / 2 + 4, xml_escape(tl.tracks[i]));
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>\n", left, y + row, left + width,
                       y + row);
    for (const auto& b : tl.bars) {
      if (b.resource != tl.tracks[i]) continue;
      const double x0 = x(to_double(b.start_s)), x1 = x(to_double(b.end_s)), w = std::max(x1 - x0, 0.5);
      // Outlines only where a bar is wide enough to show one: 64-token chunks drawn with
      // outlines at a pixel each turn into dark hatching.
      const std::string stroke = w >= 4 ? " stroke=\"#222\" stroke-width=\"0.3\"" : "";
      out += fmt::format(
          "<rect x=\"{:.3f}\" y=\"{}\" width=\"{:.3f}\" height=\"{}\" fill=\"{}\"{}>"
          "<title>{} ({}): {} to {}</title></rect>\n",
          x0, y + 4, w, row - 8, colour(b.colour), stroke, xml_escape(b.name), xml_escape(b.context),
          human_seconds(b.start_s), human_seconds(b.end_s));
      // The task's name on its bar where it fits.
      if (static_cast<double>(b.name.size()) * kCharPx + 6 <= w) {
        out += fmt::format("<text x=\"{:.3f}\" y=\"{}\" font-size=\"11\" fill=\"#ffffff\">{}</text>\n", x0 + 3,
                           y + row / 2 + 4, xml_escape(b.name));
      }
      // A transfer's latency: from the end of its occupancy of the lane to the moment its
      // data is usable, drawn as a thin bar after it.
      if (b.done_s > b.end_s) {
        const double d1 = x(to_double(b.done_s));
        out += fmt::format(
            "<rect x=\"{:.3f}\" y=\"{}\" width=\"{:.3f}\" height=\"4\" fill=\"#000000\" class=\"latency\">"
            "<title>{}: latency, usable at {}</title></rect>\n",
            x1, y + row / 2 - 2, std::max(d1 - x1, 1.0), xml_escape(b.name), human_seconds(b.done_s));
      }
    }
  }
  const double axis = top + rows_h + 10;
  out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n", left, axis, left + width, axis);
  for (double t = 0; t <= span * (1 + 1e-9); t += step) {
    out += fmt::format("<line x1=\"{0:.3f}\" y1=\"{1}\" x2=\"{0:.3f}\" y2=\"{2}\" stroke=\"#000\"/>\n", x(t), axis,
                       axis + 5);
    out += fmt::format("<text x=\"{:.3f}\" y=\"{}\" text-anchor=\"middle\">{:g} {}</text>\n", x(t), axis + 18,
                       t * unit.first, unit.second);
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\">time</text>\n", left + width / 2, axis + 36);
  // Legend: the caller's colours, and the latency mark where a bar has one.
  const bool latency = std::any_of(tl.bars.begin(), tl.bars.end(), [](const TimelineBar& b) { return b.done_s > b.end_s; });
  double lx = left;
  const double ly = axis + 56;
  for (const auto& [c, label] : tl.legend) {
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\"/>"
                       "<text x=\"{}\" y=\"{}\" class=\"legend\">{}</text>\n",
                       lx, ly - 10, colour(c), lx + 18, ly, xml_escape(label));
    lx += 18 + static_cast<double>(label.size()) * kCharPx + 16;
  }
  if (latency) {
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"#000000\"/>"
                       "<text x=\"{}\" y=\"{}\" class=\"legend\">link latency (data not yet usable)</text>\n",
                       lx, ly - 6, lx + 18, ly);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace detail

namespace {

// The seed and pipeline models' simulation as a timeline: colour = (batch, stage), three
// batches of two stages before the colours repeat.
detail::Timeline timeline_of(const Simulation& sim) {
  detail::Timeline tl;
  tl.title = fmt::format("lorasplit simulate: plan ({}), {} batch{}, {} model", fmt::join(sim.plan.b, ", "), sim.batches,
                         sim.batches == 1 ? "" : "es", sim.model);
  for (const auto& r : sim.resources) tl.tracks.push_back(r.name);
  const auto colour = [](int batch, int stage) { return static_cast<std::size_t>(stage - 1 + 2 * (batch - 1)) % 6; };
  std::vector<std::pair<int, int>> keys;
  for (const auto& t : sim.tasks) {
    detail::TimelineBar b;
    b.name = t.name;
    b.resource = t.resource;
    b.colour = colour(t.batch, t.stage);
    b.context = fmt::format("batch {}, stage {}", t.batch, t.stage);
    b.category = fmt::format("batch {} stage {}", t.batch, t.stage);
    b.start_s = t.start_s;
    b.end_s = t.end_s;
    b.done_s = t.done_s;
    b.args = {{"batch", t.batch}, {"stage", t.stage}, {"tokens", t.tokens}};
    tl.bars.push_back(std::move(b));
    const std::pair<int, int> k{(t.batch - 1) % 3 + 1, t.stage};
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& [batch, stage] : keys) {
    tl.legend.emplace_back(colour(batch, stage), sim.batches > 3
                                                     ? fmt::format("batches {}, {}, ..., stage {}", batch, batch + 3, stage)
                                                     : fmt::format("batch {}, stage {}", batch, stage));
  }
  tl.span_s = sim.makespan_s;
  tl.other = {{"plan", {sim.plan.b[0], sim.plan.b[1], sim.plan.b[2]}}, {"model", sim.model}, {"batches", sim.batches}};
  return tl;
}

}  // namespace

std::string render_trace_json(const Simulation& sim) { return detail::timeline_trace_json(timeline_of(sim)); }

std::string render_gantt_svg(const Simulation& sim) { return detail::timeline_gantt_svg(timeline_of(sim)); }

std::string render_simulation_text(const Simulation& sim, std::size_t max_rows) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  line(fmt::format("lorasplit simulate: plan (b1, b2, b3) = ({}, {}, {}), {} batch{}{}, compared with the {} model",
                   sim.plan.b[0], sim.plan.b[1], sim.plan.b[2], sim.batches, sim.batches == 1 ? "" : "es",
                   sim.overlap ? " (stage 1 of the next batch overlaps stage 2)" : "", sim.model));
  line("");
  line("Stages of the first batch (simulated against the model's formulas)");
  line(fmt::format("  {:<6} {:>14} {:>14} {:>14} {:>14} {:>14}", "stage", "sim GPU", "model T_GPU", "sim device",
                   "model T_CXL", "sim stage"));
  for (const auto& c : sim.stages) {
    line(fmt::format("  {:<6} {:>14} {:>14} {:>14} {:>14} {:>14}", c.stage, detail::human_seconds(c.sim_gpu_s),
                     detail::human_seconds(c.model_gpu_s), detail::human_seconds(c.sim_cxl_s),
                     detail::human_seconds(c.model_cxl_s), detail::human_seconds(c.sim_stage_s)));
  }
  bool any = false;
  for (const auto& c : sim.stages) {
    for (const auto* terms : {&c.gpu_terms, &c.cxl_terms}) {
      for (const auto& t : *terms) {
        if (!any) line("Differences, by model term (simulated minus modelled)");
        any = true;
        line(fmt::format("  stage {} {}: {:+.6g} s  {}", c.stage, terms == &c.gpu_terms ? "GPU" : "device",
                         to_double(t.seconds), t.description));
      }
    }
    if (c.gpu_residual_s != 0 || c.cxl_residual_s != 0) {
      if (!any) line("Differences, by model term (simulated minus modelled)");
      any = true;
      line(fmt::format("  stage {}: GPU {:+.6g} s, device {:+.6g} s not stated by the formulas (a partial last chunk, "
                       "or transfers queued on one link lane)",
                       c.stage, to_double(c.gpu_residual_s), to_double(c.cxl_residual_s)));
    }
  }
  if (!any) line("The simulated stage times equal the model's exactly.");
  line("");
  line("Resources");
  for (const auto& r : sim.resources) {
    line(fmt::format("  {:<16} busy {:>12}  utilization {:6.2f} %", r.name, detail::human_seconds(r.busy_s),
                     100 * to_double(r.utilization)));
  }
  line("");
  line(fmt::format("Makespan {} ({} tasks); first batch {}", detail::human_seconds(sim.makespan_s), sim.tasks.size(),
                   detail::human_seconds(sim.first_batch_s)));
  line(fmt::format("Throughput: simulated {:.6g} tokens/s{}, model {:.6g} tokens/s ({:+.6f} %)",
                   to_double(sim.simulated_tokens_per_s), sim.batches > 1 ? " (steady state)" : "",
                   to_double(sim.analytic_tokens_per_s),
                   sim.analytic_tokens_per_s > 0
                       ? to_double((sim.simulated_tokens_per_s / sim.analytic_tokens_per_s - 1) * 100)
                       : 0.0));
  line("");
  line(fmt::format("Tasks ({} of {}; --format json or --trace for all)", std::min(max_rows, sim.tasks.size()),
                   sim.tasks.size()));
  line(fmt::format("  {:<5} {:<5} {:<36} {:<15} {:>14} {:>14} {:>14}", "batch", "stage", "task", "resource", "start",
                   "end", "done"));
  for (std::size_t i = 0; i < sim.tasks.size() && i < max_rows; ++i) {
    const auto& t = sim.tasks[i];
    line(fmt::format("  {:<5} {:<5} {:<36} {:<15} {:>14} {:>14} {:>14}", t.batch, t.stage, t.name, t.resource,
                     detail::human_seconds(t.start_s), detail::human_seconds(t.end_s),
                     detail::human_seconds(t.done_s)));
  }
  return out;
}

std::string render_simulation_json(const Simulation& sim, int indent) {
  nlohmann::ordered_json j;
  j["plan"] = {sim.plan.b[0], sim.plan.b[1], sim.plan.b[2]};
  j["model"] = sim.model;
  j["batches"] = sim.batches;
  j["overlap"] = sim.overlap;
  j["makespan_s"] = to_double(sim.makespan_s);
  j["makespan_s_exact"] = format_fraction(sim.makespan_s);
  j["first_batch_s_exact"] = format_fraction(sim.first_batch_s);
  j["simulated_tokens_per_s"] = to_double(sim.simulated_tokens_per_s);
  j["simulated_tokens_per_s_exact"] = format_fraction(sim.simulated_tokens_per_s);
  j["analytic_tokens_per_s"] = to_double(sim.analytic_tokens_per_s);
  j["analytic_tokens_per_s_exact"] = format_fraction(sim.analytic_tokens_per_s);
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const auto& c : sim.stages) {
    const auto terms = [](const std::vector<SimTerm>& ts) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array();
      for (const auto& t : ts) a.push_back({{"term", t.description}, {"seconds_exact", format_fraction(t.seconds)}});
      return a;
    };
    stages.push_back({{"stage", c.stage},
                      {"sim_gpu_s_exact", format_fraction(c.sim_gpu_s)},
                      {"model_gpu_s_exact", format_fraction(c.model_gpu_s)},
                      {"sim_cxl_s_exact", format_fraction(c.sim_cxl_s)},
                      {"model_cxl_s_exact", format_fraction(c.model_cxl_s)},
                      {"sim_stage_s_exact", format_fraction(c.sim_stage_s)},
                      {"gpu_terms", terms(c.gpu_terms)},
                      {"cxl_terms", terms(c.cxl_terms)},
                      {"gpu_residual_s_exact", format_fraction(c.gpu_residual_s)},
                      {"cxl_residual_s_exact", format_fraction(c.cxl_residual_s)}});
  }
  j["stages"] = stages;
  nlohmann::ordered_json res = nlohmann::ordered_json::array();
  for (const auto& r : sim.resources) {
    res.push_back({{"name", r.name},
                   {"busy_s_exact", format_fraction(r.busy_s)},
                   {"utilization", to_double(r.utilization)}});
  }
  j["resources"] = res;
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const auto& t : sim.tasks) {
    tasks.push_back({{"batch", t.batch},
                     {"stage", t.stage},
                     {"task", t.name},
                     {"resource", t.resource},
                     {"tokens", t.tokens},
                     {"start_s_exact", format_fraction(t.start_s)},
                     {"end_s_exact", format_fraction(t.end_s)},
                     {"done_s_exact", format_fraction(t.done_s)}});
  }
  j["tasks"] = tasks;
  return j.dump(indent) + "\n";
}

}  // namespace lorasplit
