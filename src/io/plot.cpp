#include <lorasplit/plot.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace lorasplit {
namespace {

Error plot_error(const std::string& path, const std::string& why) {
  return Error{ErrorCode::kUnsupported, "plot", path, fmt::format("plot = '{}': {}", path, why)};
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

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Runs gnuplot on `script`; data files live next to it in a temporary directory.
Status run_gnuplot(const std::string& script, const std::filesystem::path& dir, const std::string& out_path) {
  const auto script_path = dir / "plot.gp";
  std::ofstream(script_path) << script;
  const std::string cmd = fmt::format("gnuplot {} 2>{}", quote(script_path.string()), quote((dir / "err.txt").string()));
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream err(dir / "err.txt");
    std::string first;
    std::getline(err, first);
    return plot_error(out_path, "gnuplot failed: " + first);
  }
  return {};
}

std::filesystem::path scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("lorasplit-plot-{}-{}", static_cast<long>(::getpid()), std::rand());
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

Status plot_sweep(const std::vector<SweepAxis>& axes, const std::vector<SweepRow>& rows, const std::string& out_path) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, "the file must end in .svg or .png");
  if (!gnuplot_available()) return plot_error(out_path, "gnuplot is not installed (apt-get install gnuplot-nox)");
  if (axes.empty() || axes.size() > 2) return plot_error(out_path, "plots take one or two varied parameters");
  const auto dir = scratch_dir();
  // data.txt: one block per value of the second axis: x throughput gain (x2)
  std::map<std::size_t, std::vector<const SweepRow*>> blocks;
  const std::size_t n2 = axes.size() == 2 ? axes[1].size() : 1;
  for (const auto& r : rows) blocks[axes.size() == 2 ? r.index % n2 : 0].push_back(&r);
  {
    std::ofstream data(dir / "data.txt");
    bool first = true;
    for (const auto& [k, block] : blocks) {
      if (!first) data << "\n\n";
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
  gp << term << "\nset output " << quote(out_path) << "\n";
  gp << "set datafile missing 'NaN'\nset grid\nset key outside right top\nset autoscale xfix\n";
  gp << "set offsets 0, 0, graph 0.05, graph 0.05\n";
  gp << "set xlabel " << quote(axis_label(axes[0].key)) << "\n";
  if (axes[0].kind == AxisKind::kLog) gp << "set logscale x\n";
  const std::string data = quote((dir / "data.txt").string());
  const bool heat = axes.size() == 2 && n2 > 12;
  gp << "set multiplot layout 2,1 title " << quote("lorasplit sweep: throughput and gain over GPU-only") << "\n";
  const auto panel = [&](const char* ylabel, int column) {
    gp << "set ylabel " << quote(ylabel) << "\n";
    if (heat) {
      gp << "set view map\nset ylabel " << quote(axis_label(axes[1].key)) << "\n";
      if (axes[1].kind == AxisKind::kLog) gp << "set logscale y\n";
      gp << "set cblabel " << quote(ylabel) << "\n";
      gp << "splot " << data << " using 1:4:" << column << " with pm3d notitle\n";
      gp << "unset logscale y\n";
    } else if (axes.size() == 2) {
      gp << "plot ";
      for (std::size_t i = 0; i < n2; ++i) {
        gp << (i != 0 ? ", " : "") << data << " index " << i << " using 1:" << column << " with linespoints title "
           << quote(fmt::format("{} = {}", axes[1].key, format_exact(axes[1].value(i))));
      }
      gp << "\n";
    } else {
      gp << "plot " << data << " using 1:" << column << " with linespoints notitle\n";
    }
  };
  panel("throughput [tokens/s]", 2);
  panel("gain over GPU-only [%]", 3);
  gp << "unset multiplot\n";
  Status st = run_gnuplot(gp.str(), dir, out_path);
  std::filesystem::remove_all(dir);
  return st;
}

Status plot_lines(const std::string& title, const std::string& x_label, const std::string& y_label, bool log_x,
                  const std::vector<Series>& series, const std::string& out_path) {
  const std::string term = terminal_for(out_path);
  if (term.empty()) return plot_error(out_path, "the file must end in .svg or .png");
  if (!gnuplot_available()) return plot_error(out_path, "gnuplot is not installed (apt-get install gnuplot-nox)");
  const auto dir = scratch_dir();
  {
    std::ofstream data(dir / "data.txt");
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (i != 0) data << "\n\n";
      for (const auto& [x, y] : series[i].points) data << fmt::format("{:.17g} {:.17g}\n", x, y);
    }
  }
  std::ostringstream gp;
  gp << term << "\nset output " << quote(out_path) << "\nset grid\nset key outside right top\n";
  gp << "set autoscale xfix\nset offsets 0, 0, graph 0.05, graph 0.05\n";
  gp << "set title " << quote(title) << "\nset xlabel " << quote(x_label) << "\nset ylabel " << quote(y_label) << "\n";
  if (log_x) gp << "set logscale x\n";
  gp << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    gp << (i != 0 ? ", " : "") << quote((dir / "data.txt").string()) << " index " << i
       << " using 1:2 with linespoints title " << quote(series[i].title);
  }
  gp << "\n";
  Status st = run_gnuplot(gp.str(), dir, out_path);
  std::filesystem::remove_all(dir);
  return st;
}

}  // namespace lorasplit
