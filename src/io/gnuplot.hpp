#pragma once
// The one way lorasplit runs gnuplot (src/io/plot.cpp): a script and its data in a scratch
// folder, an argument vector and no shell, the figure moved into place whole or not at all.
// For figures drawn outside plot.cpp (the calibration's).
#include <lorasplit/status.hpp>

#include <string>

namespace lorasplit::detail {

/// gnuplot's terminal line for the file's type (.svg, .png, .pdf); empty for another type.
std::string gnuplot_terminal(const std::string& path);
/// A gnuplot string literal in single quotes: a user's text is only ever text.
std::string gnuplot_quote(const std::string& s);
/// The name under which the script reads its data.
const char* gnuplot_data_file();
/// Runs `script` (without its `set output`) over `data`; the figure goes to `out_path`.
Status run_gnuplot_script(const std::string& script, const std::string& data, const std::string& out_path);

}  // namespace lorasplit::detail
