#include "http/server_log.hpp"

#include "http/metrics_registry.hpp"
#include "stream/json_writer.hpp"
#include "stream/tick_json.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

namespace http {
namespace {

std::atomic<bool> g_json{true};

/// The access log hands its fields already encoded: the message of an entry
/// logged to the "access" logger is a list of JSON members.
constexpr const char* kAccessLogger = "access";

class JsonFormatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    char iso[32];
    std::string line;
    {
      stream::JsonWriter w(line);
      w.begin_object()
          .member("ts", stream::format_iso_ms(iso, ms))
          .member("level", std::string_view(level.data(), level.size()));
      if (logger == kAccessLogger) w.member("msg", "request").raw_members(payload);
      else w.member("msg", payload);
      w.end_object();
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::shared_ptr<spdlog::logger> access_logger() {
  static auto logger = [] {
    auto l = spdlog::get(kAccessLogger);
    return l ? l : spdlog::stderr_logger_mt(kAccessLogger);
  }();
  return logger;
}

} // namespace

void setup_server_logging(const std::string& level, const std::string& format) {
  auto main = spdlog::stderr_logger_mt("ib-stream-server");
  spdlog::set_default_logger(main);
  access_logger();
  g_json = format == "json";
  if (g_json) spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
  // Every line is flushed: logs are read live, by people and by tests.
  spdlog::flush_on(spdlog::level::trace);
}

void log_access(const AccessEntry& e) {
  // Every answered request passes here once: GET /metrics counts it.
  count_http_request(e.method, e.path, e.status);
  const int status_class = e.status / 100;
  const auto level = status_class == 5 ? spdlog::level::warn : spdlog::level::info;
  auto logger = access_logger();
  if (!logger->should_log(level)) return;
  if (g_json) {
    // The members of the log line; JsonFormatter puts them in the object.
    std::string m;
    {
      stream::JsonWriter w(m);
      w.member("method", e.method).member("path", e.path);
      if (!e.query.empty()) w.member("query", e.query);
      w.member("status", e.status)
          .member("duration_ms",
                  static_cast<double>(static_cast<long long>(e.duration_ms * 1000)) / 1000.0)
          .member("remote", e.remote);
      if (!e.note.empty()) w.member("note", e.note);
    }
    logger->log(level, "{}", m);
  } else {
    logger->log(level, "{} {}{}{} {} {:.3f}ms {}{}{}", e.method, e.path, e.query.empty() ? "" : "?",
                e.query, e.status, e.duration_ms, e.remote, e.note.empty() ? "" : " ", e.note);
  }
}

} // namespace http
