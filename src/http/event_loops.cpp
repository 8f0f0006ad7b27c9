#include "http/event_loops.hpp"

#include <boost/asio/strand.hpp>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace http {
namespace asio = boost::asio;

EventLoops::EventLoops(std::size_t count) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, count); ++i)
    loops_.push_back(std::make_unique<asio::io_context>(1));
}

asio::io_context& EventLoops::next() {
  return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void EventLoops::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops_.size(); ++i)
    threads.emplace_back([loop = loops_[i].get()] { loop->run(); });
  loops_[0]->run();
  for (auto& t : threads) t.join();
}

void EventLoops::stop() {
  for (auto& l : loops_) l->stop();
}

asio::io_context& event_loop_of(const asio::any_io_executor& ex) {
  using Executor = asio::io_context::executor_type;
  if (const auto* e = ex.target<Executor>()) return e->context();
  if (const auto* s = ex.target<asio::strand<Executor>>()) return s->get_inner_executor().context();
  throw std::logic_error("a session's executor must be an io_context's");
}

} // namespace http
