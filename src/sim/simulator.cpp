#include "sim/simulator.hpp"

#include "sim/admin_commands.hpp"
#include "sim/admin_server.hpp"
#include "sim/api_listener.hpp"
#include "sim/api_session.hpp"
#include "sim/sim_context.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <future>

namespace sim {
namespace {
/// command() from another thread waits this long for the strand; if the
/// io_context is not running it would otherwise wait forever.
constexpr auto kCommandTimeout = std::chrono::seconds(10);
} // namespace

struct Simulator::Impl {
  Impl(boost::asio::io_context& ioc, SimConfig config)
      : ioc(ioc), ctx(std::make_shared<SimContext>(ioc, std::move(config))),
        listener(std::make_shared<ApiListener>(ctx)),
        commands(std::make_shared<AdminCommands>(ctx, listener)) {}

  /// Runs `f` on the strand: directly when already there, else posted.
  template <typename F> void on_strand(F&& f) {
    if (ctx->strand.running_in_this_thread()) f();
    else boost::asio::post(ctx->strand, std::forward<F>(f));
  }

  void stop_now() {
    if (stopped) return;
    stopped = true;
    listener->stop();
    if (admin) admin->stop();
    for (const auto& s : ctx->sessions.all()) s->close("simulator stopping");
    ctx->feed.stop();
  }

  boost::asio::io_context& ioc;
  std::shared_ptr<SimContext> ctx;
  std::shared_ptr<ApiListener> listener;
  std::shared_ptr<AdminCommands> commands;
  std::shared_ptr<AdminServer> admin;
  bool stopped = false;
};

Simulator::Simulator(boost::asio::io_context& ioc, SimConfig config)
    : impl_(std::make_shared<Impl>(ioc, std::move(config))) {}

Simulator::~Simulator() {
  // Pending handlers hold the context, not the Impl: stopping here closes
  // the sockets so that they finish promptly.
  stop();
}

void Simulator::start() {
  const auto& cfg = impl_->ctx->config;
  impl_->listener->open(cfg.port);
  if (cfg.admin_port) {
    std::weak_ptr<AdminCommands> weak = impl_->commands;
    impl_->admin = std::make_shared<AdminServer>(
        impl_->ctx->strand, [weak](const std::string& line) -> std::string {
          auto commands = weak.lock();
          return commands ? commands->execute(line) : "error simulator stopped";
        });
    impl_->admin->open(*cfg.admin_port);
  }
  spdlog::info("ib-tws-sim listening on {}:{} (server version {}, seed {}){}", cfg.bind_address,
               port(), cfg.server_version, cfg.seed,
               admin_port() ? ", admin port " + std::to_string(*admin_port()) : "");
}

void Simulator::stop() {
  auto impl = impl_;
  impl->on_strand([impl] { impl->stop_now(); });
}

std::uint16_t Simulator::port() const { return impl_->listener->port(); }

std::optional<std::uint16_t> Simulator::admin_port() const {
  if (!impl_->admin) return std::nullopt;
  return impl_->admin->port();
}

std::string Simulator::command(const std::string& line) {
  auto impl = impl_;
  if (impl->ctx->strand.running_in_this_thread()) return impl->commands->execute(line);
  // A stopped io_context (run() returned) will not run the command soon.
  if (impl->ioc.stopped()) return "error the simulator's io_context is not running";
  auto done = std::make_shared<std::promise<std::string>>();
  auto result = done->get_future();
  boost::asio::post(impl->ctx->strand,
                    [impl, done, line] { done->set_value(impl->commands->execute(line)); });
  if (result.wait_for(kCommandTimeout) != std::future_status::ready)
    return "error the simulator's io_context is not running";
  return result.get();
}

} // namespace sim
