#include <lorasplit/plot.hpp>

#include <lorasplit/files.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

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
  return {};
}

std::string axis_label(const std::string& key) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr || s->unit.empty()) return key;
  return fmt::format("{} [{}]", key, s->unit);
}

// A gnuplot string literal. The strings written here are our own words and numbers
// (keys, units, values), never a path: gnuplot runs in a scratch directory and reads and
// writes fixed names there, so no user text reaches its command language. Newlines
// would end a command: they are written as spaces.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out + "\"";
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

bool gnuplot_available() { return detail::find_program("gnuplot").has_value(); }

Status plot_sweep(const std::vector<SweepAxis>& axes, const std::vector<SweepRow>& rows, const std::string& out_path) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, "the file must end in .svg or .png");
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
  {
    bool first = true;
    for (const auto& [k, block] : blocks) {
      if (!first) data << (heat ? "\n" : "\n\n");
      first = false;
      for (const SweepRow* r : block) {
        const bool ok = r->valid && r->status == SolveStatus::kOptimal;
        data << fmt::format("{:.17g} {} {} {:.17g}\n", to_double(r->values[0]),
                            ok ? fmt::format("{:.17g}", to_double(r->throughput_tokens_per_s)) : "NaN",
                            ok && r->gain_percent ? fmt::format("{:.17g}", to_double(*r->gain_percent)) : "NaN",
                            axes.size() == 2 ? to_double(r->values[1]) : 0.0);
      }
    }
  }
  std::ostringstream gp;
  gp << term << "\n";
  gp << "set datafile missing 'NaN'\nset grid\nset key outside right top\nset autoscale xfix\n";
  gp << "set offsets 0, 0, graph 0.05, graph 0.05\n";
  gp << "set xlabel " << quote(axis_label(axes[0].key)) << "\n";
  if (axes[0].kind == AxisKind::kLog) gp << "set logscale x\n";
  const std::string file = quote(kData);
  gp << "set multiplot layout 2,1 title " << quote("lorasplit sweep: throughput and gain over GPU-only") << "\n";
  const auto panel = [&](const char* ylabel, int column) {
    gp << "set ylabel " << quote(ylabel) << "\n";
    if (heat) {
      gp << "set view map\nset ylabel " << quote(axis_label(axes[1].key)) << "\n";
      if (axes[1].kind == AxisKind::kLog) gp << "set logscale y\n";
      gp << "set cblabel " << quote(ylabel) << "\n";
      gp << "splot " << file << " using 1:4:" << column << " with pm3d notitle\n";
      gp << "unset logscale y\n";
    } else if (axes.size() == 2) {
      gp << "plot ";
      for (std::size_t i = 0; i < n2; ++i) {
        gp << (i != 0 ? ", " : "") << file << " index " << i << " using 1:" << column << " with linespoints title "
           << quote(fmt::format("{} = {}", axes[1].key, format_exact(axes[1].value(i))));
      }
      gp << "\n";
    } else {
      gp << "plot " << file << " using 1:" << column << " with linespoints notitle\n";
    }
  };
  panel("throughput [tokens/s]", 2);
  panel("gain over GPU-only [%]", 3);
  gp << "unset multiplot\n";
  return run_gnuplot(gp.str(), data.str(), out_path);
}

Status plot_lines(const std::string& title, const std::string& x_label, const std::string& y_label, bool log_x,
                  const std::vector<Series>& series, const std::string& out_path) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, "the file must end in .svg or .png");
  if (!gnuplot_available()) return no_gnuplot(out_path);
  std::ostringstream data;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i != 0) data << "\n\n";
    for (const auto& [x, y] : series[i].points) data << fmt::format("{:.17g} {:.17g}\n", x, y);
  }
  std::ostringstream gp;
  gp << term << "\nset grid\nset key outside right top\n";
  gp << "set autoscale xfix\nset offsets 0, 0, graph 0.05, graph 0.05\n";
  gp << "set title " << quote(title) << "\nset xlabel " << quote(x_label) << "\nset ylabel " << quote(y_label) << "\n";
  if (log_x) gp << "set logscale x\n";
  gp << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    gp << (i != 0 ? ", " : "") << quote(kData) << " index " << i
       << " using 1:2 with linespoints title " << quote(series[i].title);
  }
  gp << "\n";
  return run_gnuplot(gp.str(), data.str(), out_path);
}

}  // namespace lorasplit
