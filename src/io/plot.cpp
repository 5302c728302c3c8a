#include <lorasplit/plot.hpp>

#include <lorasplit/files.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "io/gnuplot.hpp"
#include "io/program.hpp"

namespace lorasplit {
namespace {

// kUnsupported: gnuplot is missing (the data is still printed); kBadOption: the request
// cannot be plotted; kInternal: gnuplot ran and failed.
Error plot_error(const std::string& path, const std::string& why, ErrorCode code = ErrorCode::kBadOption) {
  return Error{code, "plot", path, fmt::format("plot = '{}': {}", path, why)};
}
Error no_gnuplot(const std::string& path) {
  return plot_error(path, "gnuplot is not installed (apt-get install gnuplot-nox)", ErrorCode::kUnsupported);
}

std::string terminal_for(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".svg") return "set terminal svg size 960,720 dynamic noenhanced font 'Sans,11' background '#ffffff'";
  if (ext == ".png") return "set terminal pngcairo size 1200,900 noenhanced font 'Sans,11'";
  if (ext == ".pdf") return "set terminal pdfcairo size 8in,6in noenhanced font 'Sans,10'";
  return {};
}

constexpr const char* kFormats = "the file must end in .svg, .png or .pdf";

// The unit a tick label carries after its SI prefix ("10 GB/s", "1.5 TFLOPS", "250 ns").
std::string tick_unit(const ParamSpec& s) {
  switch (s.dimension) {
    case Dimension::kBytes: return "B";
    case Dimension::kBytesPerSecond: return "B/s";
    case Dimension::kFlopsPerSecond: return "FLOPS";
    case Dimension::kSeconds: return "s";
    case Dimension::kCount:
    case Dimension::kFraction:
    case Dimension::kChoice: break;
  }
  return s.unit.empty() ? std::string() : " " + std::string(s.unit);
}

// The label of a parameter's axis: its meaning, with the key for reference.
std::string axis_label(const std::string& key) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr) return key;
  std::string meaning(s->description);
  if (const auto cut = meaning.find(':'); cut != std::string::npos && cut + 2 < meaning.size()) {
    meaning = meaning.substr(0, cut);  // "model (hidden) dimension: X is b x d" -> its first clause
  }
  return fmt::format("{} ({})", meaning, key);
}

// An SI tick format with the decimals that tell ticks apart over [lo, hi] (up to ten
// ticks): "%.2s %c" gives "2.05 G" where "%.1s %c" would print "2.0 G" on every tick.
std::string si_format(const std::optional<std::pair<double, double>>& e) {
  if (!e) return "%.1s %c";
  const double hi = std::max(std::fabs(e->first), std::fabs(e->second));
  if (!(hi > 0)) return "%.1s %c";
  const double scale = std::pow(1000.0, std::floor(std::log10(hi) / 3));
  const double span = (e->second - e->first) / scale;
  int decimals = 1;
  if (span > 0) decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(span / 10))), 0, 6);
  return fmt::format("%.{}s %c", decimals);
}

// gnuplot's tick format for a parameter's axis: mantissa, SI prefix and unit ("10 GB/s",
// "1 us", "2.5 TFLOPS"); decades on log axes need no decimal. Plain numbers for counts and
// fractions.
std::string tick_format(const std::string& key, bool log, const std::optional<std::pair<double, double>>& range) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr) return "% h";
  switch (s->dimension) {
    case Dimension::kBytes:
    case Dimension::kBytesPerSecond:
    case Dimension::kFlopsPerSecond:
    case Dimension::kSeconds: return (log ? std::string("%.0s %c") : si_format(range)) + tick_unit(*s);
    case Dimension::kCount:
    case Dimension::kFraction:
    case Dimension::kChoice: break;
  }
  return "% h";
}

// Smallest and largest finite value of one data column (nullopt: none).
std::optional<std::pair<double, double>> extent(const std::vector<double>& values) {
  std::optional<std::pair<double, double>> out;
  for (const double v : values) {
    if (!std::isfinite(v)) continue;
    if (!out) {
      out = {v, v};
    } else {
      out->first = std::min(out->first, v);
      out->second = std::max(out->second, v);
    }
  }
  return out;
}

// A gnuplot string literal in single quotes: gnuplot substitutes neither backquoted
// commands nor @macros nor backslash escapes inside them (double-quoted strings run
// `...` through a shell), so a user's title or label is only ever text. A single quote
// is written twice; a newline would end the command and becomes a space. The figure's
// paths never appear: gnuplot runs in a scratch directory with fixed file names.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += '\'';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out + "'";
}

constexpr const char* kData = "data.txt";

// Writes `script` and the data into the scratch directory, runs gnuplot there (no shell,
// an argument vector), then moves its figure to `out_path` through a temporary file in
// the same folder, so a failed run leaves no file that looks finished.
Status run_gnuplot(const std::string& script, const std::string& data, const std::string& out_path) {
  const auto program = detail::find_program("gnuplot");
  if (!program) return no_gnuplot(out_path);
  detail::ScratchDir dir;
  if (!dir.ok()) return plot_error(out_path, dir.error(), ErrorCode::kWriteFailed);
  const std::string ext = std::filesystem::path(out_path).extension().string();
  const std::string figure = "figure" + ext;
  if (!write_file((dir.path() / "plot.gp").string(), "set output " + quote(figure) + "\n" + script, "plot") ||
      !write_file((dir.path() / kData).string(), data, "plot")) {
    return plot_error(out_path, "cannot write the plot's scratch files", ErrorCode::kWriteFailed);
  }
  const detail::ProgramRun run = detail::run_program(*program, {"plot.gp"}, dir.path(), "log.txt");
  if (!run.started || run.exit_status != 0) {
    std::ifstream err(dir.path() / "log.txt");
    std::string first;
    std::getline(err, first);
    return plot_error(out_path, run.error.empty() ? "gnuplot failed: " + first : run.error, ErrorCode::kInternal);
  }
  std::ifstream in(dir.path() / figure, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in || bytes.str().empty()) return plot_error(out_path, "gnuplot wrote no figure", ErrorCode::kInternal);
  return write_file(out_path, bytes.str(), "plot");
}

}  // namespace

namespace detail {
std::string gnuplot_terminal(const std::string& path) { return terminal_for(path); }
std::string gnuplot_quote(const std::string& s) { return quote(s); }
const char* gnuplot_data_file() { return kData; }
Status run_gnuplot_script(const std::string& script, const std::string& data, const std::string& out_path) {
  return run_gnuplot(script, data, out_path);
}
}  // namespace detail

bool gnuplot_available() { return detail::find_program("gnuplot").has_value(); }

Status check_plot_path(const std::string& path) {
  if (terminal_for(path).empty()) return plot_error(path, kFormats);
  return {};
}

Status plot_sweep(const std::vector<SweepAxis>& axes, const std::vector<SweepRow>& rows, const std::string& out_path,
                  const PlotOptions& options) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, kFormats);
  if (!gnuplot_available()) return no_gnuplot(out_path);
  if (axes.empty() || axes.size() > 2) return plot_error(out_path, "plots take one or two varied parameters");
  // data.txt: one block per value of the second axis: x throughput gain (x2). Line plots
  // select blocks by index (separated by two blank lines); a heatmap's scan lines are
  // separated by one (pm3d draws nothing across double blank lines).
  std::map<std::size_t, std::vector<const SweepRow*>> blocks;
  const std::size_t n2 = axes.size() == 2 ? axes[1].size() : 1;
  const bool heat = axes.size() == 2 && n2 > 12;
  for (const auto& r : rows) blocks[axes.size() == 2 ? r.index % n2 : 0].push_back(&r);
  std::ostringstream data;
  std::vector<double> throughput, gain, xs, ys;
  {
    bool first = true;
    for (const auto& [k, block] : blocks) {
      if (!first) data << (heat ? "\n" : "\n\n");
      first = false;
      for (const SweepRow* r : block) {
        const bool ok = r->valid && r->status == SolveStatus::kOptimal;
        const double t = ok ? to_double(r->throughput_tokens_per_s) : NAN;
        const double g = ok && r->gain_percent ? to_double(*r->gain_percent) : NAN;
        throughput.push_back(t);
        gain.push_back(g);
        xs.push_back(to_double(r->values[0]));
        if (axes.size() == 2) ys.push_back(to_double(r->values[1]));
        data << fmt::format("{:.17g} {:.17g} {:.17g} {:.17g}\n", to_double(r->values[0]), t, g,
                            axes.size() == 2 ? to_double(r->values[1]) : 0.0);
      }
    }
  }
  // A panel whose values are all equal shows a flat line and nothing else: it is left out
  // and the title gives its value instead.
  const auto flat = [](const std::optional<std::pair<double, double>>& e) { return e && e->first == e->second; };
  const auto t_extent = extent(throughput), g_extent = extent(gain);
  const bool show_gain = !flat(g_extent), show_throughput = !flat(t_extent) || !show_gain;
  std::string title = options.title;
  if (title.empty()) {
    title = "lorasplit sweep: throughput and gain over GPU-only";
    if (!show_gain && g_extent) title += fmt::format(" (the gain is {:+.4g} % at every point)", g_extent->first);
  }
  std::ostringstream gp;
  gp << term << "\n";
  gp << "set datafile missing 'NaN'\nset grid\nset key outside right top\nset autoscale xfix\n";
  // Room above the data for the eye; none below it (an axis never starts below the data).
  gp << "set autoscale yfix\nset offsets 0, 0, graph 0.05, 0\n";
  gp << "set xlabel " << quote(options.xlabel.empty() ? axis_label(axes[0].key) : options.xlabel) << "\n";
  const bool log_x = axes[0].kind == AxisKind::kLog;
  if (log_x) gp << "set logscale x 10\nset mxtics 10\n";
  gp << "set format x " << quote(tick_format(axes[0].key, log_x, extent(xs))) << "\n";
  const std::string file = quote(kData);
  const int panels = (show_throughput ? 1 : 0) + (show_gain ? 1 : 0);
  gp << "set multiplot layout " << panels << ",1 title " << quote(title) << "\n";
  const ParamSpec* second = axes.size() == 2 ? find_param(axes[1].key) : nullptr;
  const auto panel = [&](const std::string& ylabel, int column, const char* format) {
    gp << "set ylabel " << quote(ylabel) << "\nset format y " << quote(format) << "\n";
    if (heat) {
      const bool log_y = axes[1].kind == AxisKind::kLog;
      // The key names the y axis (its ticks carry the unit); a sentence would not fit.
      gp << "set view map\nset lmargin 14\nset ylabel " << quote(axes[1].key) << "\n";
      if (log_y) gp << "set logscale y 10\n";
      gp << "set format y " << quote(tick_format(axes[1].key, log_y, extent(ys))) << "\n";
      gp << "set cblabel " << quote(ylabel) << "\nset format cb " << quote(format) << "\n";
      gp << "splot " << file << " using 1:4:" << column << " with pm3d notitle\n";
      gp << "unset logscale y\n";
    } else if (axes.size() == 2) {
      gp << "plot ";
      for (std::size_t i = 0; i < n2; ++i) {
        const Rational v = axes[1].value(i);
        gp << (i != 0 ? ", " : "") << file << " index " << i << " using 1:" << column << " with linespoints title "
           << quote(fmt::format("{} = {}", axes[1].key, second != nullptr ? readable_quantity(*second, v)
                                                                           : format_exact(v)));
      }
      gp << "\n";
    } else {
      gp << "plot " << file << " using 1:" << column << " with linespoints notitle\n";
    }
  };
  if (show_throughput) {
    panel(options.ylabel.empty() ? "throughput [tokens/s]" : options.ylabel, 2, si_format(t_extent).c_str());
  }
  if (show_gain) panel("gain over GPU-only [%]", 3, "% h");
  gp << "unset multiplot\n";
  return run_gnuplot(gp.str(), data.str(), out_path);
}

ServingPlotRow serving_plot_row(const ServingSweepRow& row) {
  ServingPlotRow out;
  out.index = row.index;
  out.values = row.values;
  const ServingResult& r = row.result;
  const auto throughput = [](const ServingEvaluation& e) -> std::optional<double> {
    if (!e.feasible) return std::nullopt;
    return to_double(e.tokens_per_s);
  };
  if (r.feasible) out.optimum = to_double(r.eval.tokens_per_s);
  for (const auto& b : r.baselines) {
    const auto t = throughput(b.eval);
    if (b.name == "gpu_fetch") out.gpu_fetch = t;
    if (b.name == "gpu_hbm") out.gpu_hbm = t;
    if (b.name == "device_all") out.device_all = t;
  }
  const auto gain = [&r](std::string_view name) -> std::optional<double> {
    const auto g = serving_gain_percent(r, name);
    return g ? std::optional<double>(to_double(*g)) : std::nullopt;
  };
  out.gain_over_gpu_fetch = gain("gpu_fetch");
  out.gain_over_gpu_hbm = gain("gpu_hbm");
  return out;
}

namespace {

// A serving axis's values as numbers (nullopt: one is not a number, e.g. a preset's name).
std::optional<std::vector<double>> numeric_values(const ServingAxis& axis) {
  std::vector<double> out;
  if (!axis.workload && axis.part_kind.empty()) {
    for (const auto& v : axis.exact) out.push_back(to_double(v));
    return out;
  }
  if (!axis.part_kind.empty()) return std::nullopt;
  for (const auto& v : axis.values) {
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != v.size() || !std::isfinite(x)) return std::nullopt;
    out.push_back(x);
  }
  return out;
}

std::string serving_axis_label(const ServingAxis& axis) {
  // A parameter's description may be the seed model's (link.latency_s: "paid once in stage
  // 1"): the key alone, its ticks carry the unit.
  if (!axis.workload) return axis.key;
  if (axis.key == "serving.adapters") return "adapters (serving.adapters)";
  if (axis.key == "serving.batch_tokens") return "decode tokens in the batch (serving.batch_tokens)";
  if (axis.key == "serving.context_tokens") return "tokens of context per sequence (serving.context_tokens)";
  return axis.key;
}

// A value of the second axis in the legend (the key names the axis once, as its title).
std::string serving_value_label(const ServingAxis& axis, std::size_t i) {
  if (!axis.workload && axis.part_kind.empty()) {
    if (const ParamSpec* s = find_param(axis.key)) return readable_quantity(*s, axis.exact[i]);
  }
  return axis.values[i];
}

}  // namespace

Status check_serving_plot(const std::vector<ServingAxis>& axes, const std::string& out_path) {
  if (terminal_for(out_path).empty()) return plot_error(out_path, kFormats);
  if (axes.empty() || axes.size() > 2) return plot_error(out_path, "plots take one or two varied keys");
  if (!numeric_values(axes[0])) {
    return plot_error(out_path, fmt::format("the first varied key ({}) is not numeric: vary it second, or plot the CSV",
                                            axes[0].key));
  }
  if (axes.size() == 2 && axes[1].values.size() > 8) {
    return plot_error(out_path, "at most 8 values of the second varied key can be told apart in a figure");
  }
  return {};
}

Status plot_serving_sweep(const std::vector<ServingAxis>& axes, const std::vector<ServingPlotRow>& rows,
                          const std::string& out_path, const PlotOptions& options) {
  if (auto st = check_serving_plot(axes, out_path); !st) return st;
  const std::string term = terminal_for(out_path);
  const auto xs_of_axis = numeric_values(axes[0]);
  const std::size_t n2 = axes.size() == 2 ? axes[1].values.size() : 1;
  if (!gnuplot_available()) return no_gnuplot(out_path);
  const std::size_t n1 = axes[0].values.size();
  // data.txt: one block per value of the second axis (two blank lines between blocks):
  // x optimum gpu_fetch gpu_hbm device_all gain_fetch gain_hbm, NaN where none exists.
  std::map<std::size_t, std::vector<const ServingPlotRow*>> blocks;
  for (const auto& r : rows) blocks[axes.size() == 2 ? r.index % n2 : 0].push_back(&r);
  const auto num = [](const std::optional<double>& v) { return v ? *v : NAN; };
  std::ostringstream data;
  std::vector<double> xs, thr, gains;
  bool first = true;
  for (const auto& [k, block] : blocks) {
    if (!first) data << "\n\n";
    first = false;
    for (const ServingPlotRow* r : block) {
      const double x = (*xs_of_axis)[axes.size() == 2 ? r->index / n2 : r->index % n1];
      xs.push_back(x);
      // The throughput axis spans what is drawn: over two axes, the optimum alone.
      thr.push_back(num(r->optimum));
      if (axes.size() == 1) {
        for (const auto& t : {r->gpu_fetch, r->gpu_hbm, r->device_all}) thr.push_back(num(t));
      }
      gains.push_back(num(r->gain_over_gpu_fetch));
      gains.push_back(num(r->gain_over_gpu_hbm));
      data << fmt::format("{:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g}\n", x, num(r->optimum),
                          num(r->gpu_fetch), num(r->gpu_hbm), num(r->device_all), num(r->gain_over_gpu_fetch),
                          num(r->gain_over_gpu_hbm));
    }
  }
  const auto x_extent = extent(xs);
  const bool log_x = x_extent && x_extent->first > 0 && x_extent->second >= 10 * x_extent->first;
  std::ostringstream gp;
  gp << term << "\n";
  gp << "set datafile missing 'NaN'\nset grid\nset key outside right top" << (n2 > 4 ? " font ',9' spacing 0.85" : "");
  if (axes.size() == 2) gp << " title " << quote(axes[1].key);
  gp << "\nset autoscale xfix\n";
  // Both panels end at one right margin, whatever their legends' widths.
  gp << "set offsets 0, 0, graph 0.05, graph 0.05\nset lmargin 12\nset rmargin at screen 0.72\n";
  gp << "set xlabel " << quote(options.xlabel.empty() ? serving_axis_label(axes[0]) : options.xlabel) << "\n";
  if (log_x) gp << "set logscale x 10\nset mxtics 10\n";
  gp << "set format x "
     << quote(axes[0].workload ? std::string("% h") : tick_format(axes[0].key, log_x, x_extent)) << "\n";
  // A workload axis counts whole things: on a short linear axis, a tick per whole number.
  if (axes[0].workload && !log_x && x_extent && x_extent->second - x_extent->first <= 20) gp << "set xtics 1\n";
  const std::string title = options.title.empty()
                                ? "lorasplit sweep, serving model: the optimum against its baselines"
                                : options.title;
  gp << "set multiplot layout 2,1 title " << quote(title) << "\n";
  const std::string file = quote(kData);
  // Panel 1: throughput. One axis: the optimum and the three baselines; two: the optimum
  // per value of the second axis.
  gp << "set ylabel " << quote(options.ylabel.empty() ? "throughput [tokens/s]" : options.ylabel) << "\n";
  gp << "set format y " << quote(si_format(extent(thr))) << "\n";
  if (axes.size() == 1) {
    gp << "plot " << file << " using 1:2 with linespoints lw 2 title 'optimum', " << file
       << " using 1:3 with linespoints dt 2 title 'gpu_fetch', " << file
       << " using 1:4 with linespoints dt 3 title 'gpu_hbm', " << file
       << " using 1:5 with linespoints dt 4 title 'device_all'\n";
  } else {
    gp << "plot ";
    for (std::size_t i = 0; i < n2; ++i) {
      gp << (i != 0 ? ", " : "") << file << " index " << i << " using 1:2 with linespoints lc " << i + 1
         << " title " << quote("optimum, " + serving_value_label(axes[1], i));
    }
    gp << "\n";
  }
  // Panel 2: the gains, solid over gpu_fetch, dashed over gpu_hbm, and the zero line.
  gp << "set ylabel 'gain of the optimum [%]'\nset format y '% h'\n";
  gp << "plot 0 with lines lc 'black' lw 1 notitle";
  for (std::size_t i = 0; i < n2; ++i) {
    const std::string suffix = axes.size() == 2 ? ", " + serving_value_label(axes[1], i) : std::string();
    const std::string idx = axes.size() == 2 ? fmt::format(" index {}", i) : std::string();
    gp << ", " << file << idx << " using 1:6 with linespoints lc " << i + 1 << " title "
       << quote("over gpu_fetch" + suffix) << ", " << file << idx << " using 1:7 with linespoints dt 2 lc " << i + 1
       << " title " << quote("over gpu_hbm" + suffix);
  }
  gp << "\nunset multiplot\n";
  return run_gnuplot(gp.str(), data.str(), out_path);
}

Status plot_lines(const std::string& title, const std::string& x_label, const std::string& x_unit,
                  const std::string& y_label, const std::string& y_unit, bool log_x, const std::vector<Series>& series,
                  const std::string& out_path, const PlotOptions& options) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, kFormats);
  if (!gnuplot_available()) return no_gnuplot(out_path);
  std::ostringstream data;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i != 0) data << "\n\n";
    for (const auto& [x, y] : series[i].points) data << fmt::format("{:.17g} {:.17g}\n", x, y);
  }
  std::ostringstream gp;
  gp << term << "\nset grid\nset key outside right top\n";
  gp << "set autoscale xfix\nset autoscale yfix\nset offsets 0, 0, graph 0.05, 0\n";
  const auto pick = [](const std::string& given, const std::string& fallback) { return given.empty() ? fallback : given; };
  gp << "set title " << quote(pick(options.title, title)) << "\nset xlabel " << quote(pick(options.xlabel, x_label))
     << "\nset ylabel " << quote(pick(options.ylabel, y_label)) << "\n";
  if (log_x) gp << "set logscale x 10\nset mxtics 10\n";
  std::vector<double> xs, ys;
  for (const auto& se : series) {
    for (const auto& [x, y] : se.points) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  gp << "set format x " << quote((log_x ? std::string("%.0s %c") : si_format(extent(xs))) + x_unit) << "\n";
  gp << "set format y " << quote(si_format(extent(ys)) + y_unit) << "\n";
  gp << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    gp << (i != 0 ? ", " : "") << quote(kData) << " index " << i
       << " using 1:2 with linespoints title " << quote(series[i].title);
  }
  gp << "\n";
  return run_gnuplot(gp.str(), data.str(), out_path);
}

}  // namespace lorasplit
