#pragma once
// Umbrella header: everything a user of the library needs.
#include <lorasplit/analysis.hpp>
#include <lorasplit/files.hpp>
#include <lorasplit/hardware.hpp>
#include <lorasplit/model.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/serving.hpp>
#include <lorasplit/report.hpp>
#include <lorasplit/simulate.hpp>
#include <lorasplit/solve.hpp>
#include <lorasplit/status.hpp>
#include <lorasplit/study.hpp>
#include <lorasplit/sweep.hpp>
#include <lorasplit/plot.hpp>
