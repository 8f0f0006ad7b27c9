// An io_context run by a thread of its own, for unit tests that put a Hub,
// a simulator or a client loop beside the test's thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

namespace test_support {

struct Loop {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~Loop() {
    work.reset();
    ioc.stop();
    thread.join();
  }
};

} // namespace test_support
