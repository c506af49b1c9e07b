// cmd/logging.cpp: see cmd/logging.h.
#include "cmd/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

#include "lib/did_you_mean.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

using Level = spdlog::level::level_enum;

constexpr const char* kDriver = "ptexport";

/// torch's TORCH_LOGS component names and the stages they stand for.
const std::map<std::string, std::vector<std::string>>& torch_aliases() {
  static const std::map<std::string, std::vector<std::string>> aliases = {
      {"dynamic", {"shapes", "solver"}},
      {"guards", {"shapes"}},
      {"dynamo", {"trace"}},
      {"graph", {"trace"}},
      {"graph_code", {"trace"}},
      {"aot", {"passes"}},
      {"aot_graphs", {"passes"}},
  };
  return aliases;
}

std::vector<std::string> all_log_names() {
  std::vector<std::string> names = stage_names();
  names.push_back("all");
  names.push_back("export");
  for (const auto& [name, stages] : torch_aliases()) names.push_back(name);
  return names;
}

std::string_view level_word(Level level) {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::err: return "error";
    case Level::critical: return "error";
    default: return "";
  }
}

/// Writes records of one logger to the Console, at the sink's own level.
class ConsoleSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ConsoleSink(Console& console) : console_(console) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    // A multi-line message keeps its lines together, the prefix on the first only.
    console_.write_line(format_record(msg.level, logger, payload, console_.style()));
  }
  void flush_() override {}

 private:
  Console& console_;
};

std::mutex g_mu;
std::vector<std::shared_ptr<spdlog::logger>> g_loggers;  // driver first, then stages

spdlog::logger& null_logger() {
  static auto logger = std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
  static bool init = [] {
    logger->set_level(Level::off);
    return true;
  }();
  (void)init;
  return *logger;
}

}  // namespace

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = {"load", "trace", "shapes", "solver", "passes", "serialize", "verify"};
  return names;
}

std::optional<Level> parse_level(std::string_view text) {
  if (text == "trace") return Level::trace;
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warning" || text == "warn") return Level::warn;
  if (text == "error") return Level::err;
  if (text == "off") return Level::off;
  return std::nullopt;
}

Level stderr_level(int verbose, int quiet, const std::string& log_level) {
  if (!log_level.empty()) {
    if (auto l = parse_level(log_level)) return *l;
  }
  if (quiet > 0) return quiet > 1 ? Level::off : Level::err;
  switch (verbose) {
    case 0: return Level::warn;
    case 1: return Level::info;
    case 2: return Level::debug;
    default: return Level::trace;
  }
}

std::map<std::string, Level> parse_log_spec(std::string_view spec, bool strict, std::vector<std::string>* ignored,
                                            std::string_view source) {
  std::map<std::string, Level> levels;
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && (spec[i] == ',' || spec[i] == ' ')) ++i;
    size_t j = i;
    while (j < spec.size() && spec[j] != ',' && spec[j] != ' ') ++j;
    std::string_view item = spec.substr(i, j - i);
    i = j;
    if (item.empty()) continue;

    Level level = Level::info;
    if (item.front() == '+') {
      level = Level::debug;
      item.remove_prefix(1);
    } else if (item.front() == '-') {
      level = Level::err;
      item.remove_prefix(1);
    }
    if (const size_t eq = item.find('='); eq != std::string_view::npos) {
      const std::string_view word = item.substr(eq + 1);
      auto l = parse_level(word);
      if (!l) {
        PTX_USER_FAIL(ExitCode::kUsage, "E_USAGE_LOGS")
            << source << ": '" << std::string(item) << "': unknown level '" << std::string(word)
            << "' (expected trace, debug, info, warning, error or off)"
            << did_you_mean(word, {"trace", "debug", "info", "warning", "error", "off"});
      }
      level = *l;
      item = item.substr(0, eq);
    }
    const std::string name(item);
    std::vector<std::string> stages;
    if (name == "all" || name == "export") {
      stages = stage_names();
    } else if (std::find(stage_names().begin(), stage_names().end(), name) != stage_names().end()) {
      stages = {name};
    } else if (auto it = torch_aliases().find(name); it != torch_aliases().end()) {
      stages = it->second;
    } else if (strict) {
      PTX_USER_FAIL(ExitCode::kUsage, "E_USAGE_LOGS")
          << source << ": unknown log name '" << name << "'" << did_you_mean(name, all_log_names())
          << " (names: " << join_names(stage_names()) << ", all; torch's dynamic, guards, dynamo, graph, aot)";
    } else {
      if (ignored) ignored->push_back(name);
      continue;
    }
    for (const std::string& s : stages) levels[s] = level;
  }
  return levels;
}

std::string format_record(Level level, std::string_view logger, std::string_view message, const Style& style) {
  std::string head(level_word(level));
  if (!logger.empty() && logger != kDriver) head += "[" + std::string(logger) + "]";
  switch (level) {
    case Level::warn: head = style.yellow(head); break;
    case Level::err:
    case Level::critical: head = style.red(head); break;
    case Level::debug:
    case Level::trace: head = style.dim(head); break;
    default: break;
  }
  return head + ": " + std::string(message);
}

void setup_logging(const LogConfig& config, Console& console) {
  shutdown_logging();
  std::shared_ptr<spdlog::sinks::sink> file_sink;
  if (config.file) {
    try {
      file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.file->string(), /*truncate=*/true);
    } catch (const spdlog::spdlog_ex& e) {
      PTX_USER_FAIL(ExitCode::kOutput, "E_OUTPUT_LOG")
          << "--log-file " << config.file->string() << ": cannot open for writing (" << e.what() << ")";
    }
    file_sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v");
  }
  std::vector<std::string> names = {kDriver};
  for (const std::string& s : stage_names()) names.push_back(s);

  std::lock_guard lock(g_mu);
  for (const std::string& name : names) {
    Level console_level = config.level;
    if (auto it = config.stage_levels.find(name); it != config.stage_levels.end()) console_level = it->second;
    auto console_sink = std::make_shared<ConsoleSink>(console);
    console_sink->set_level(console_level);
    std::vector<spdlog::sink_ptr> sinks = {console_sink};
    Level logger_level = console_level;
    if (file_sink) {
      // The file gets debug always, and trace too when stderr was asked for trace.
      const Level file_level = std::min(Level::debug, console_level);
      sinks.push_back(file_sink);
      logger_level = std::min(logger_level, file_level);
    }
    auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
    logger->set_level(logger_level);
    logger->flush_on(Level::trace);
    spdlog::drop(name);
    spdlog::register_logger(logger);
    g_loggers.push_back(logger);
  }
  if (file_sink) file_sink->set_level(Level::trace);  // filtering is per logger (above)
  spdlog::set_default_logger(g_loggers.front());
}

void shutdown_logging() {
  std::lock_guard lock(g_mu);
  for (auto& logger : g_loggers) {
    logger->flush();
    spdlog::drop(logger->name());
  }
  if (!g_loggers.empty()) {
    // The default logger must not keep writing to a Console that is about to die.
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::null_sink_mt>()));
  }
  g_loggers.clear();
}

spdlog::logger& log() {
  std::lock_guard lock(g_mu);
  return g_loggers.empty() ? null_logger() : *g_loggers.front();
}

spdlog::logger& stage_log(std::string_view stage) {
  std::lock_guard lock(g_mu);
  for (auto& logger : g_loggers) {
    if (logger->name() == stage) return *logger;
  }
  return null_logger();
}

}  // namespace ptx::cmd
