// store::Store under pressure: a full disk (RLIMIT_FSIZE in a forked child:
// the write fails with disk_full, nothing of it is kept, the file passes
// integrity_check, and the same write succeeds once space returns), readers
// racing the writer, and the write and read rates (printed, not asserted).
#include "store/store.hpp"
#include "store_test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace {

using namespace store_test;
using store::Query;
using store::Store;
using store::TickRecord;
using tws::TickType;

std::vector<TickRecord> quotes(int con_id, std::uint64_t first_seq, std::size_t n, std::int64_t t) {
  std::vector<TickRecord> rows;
  rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    rows.push_back(bid_ask(con_id, first_seq + i, t + static_cast<std::int64_t>(i / 50),
                           100.0 + static_cast<double>(i % 97) * 0.01,
                           100.01 + static_cast<double>(i % 89) * 0.01,
                           static_cast<double>(i % 7 + 1) * 100, 300.0));
  return rows;
}

std::size_t count_rows(const Store& st, int con_id) {
  Query q;
  q.con_id = con_id;
  q.tick_type = TickType::bid_ask;
  q.limit = static_cast<std::size_t>(-1);
  return st.read(q, [](const TickRecord&) { return true; });
}

std::uintmax_t largest_file(const std::filesystem::path& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n = std::max(n, e.file_size());
  return n;
}

// The child's side of the disk-full test: 0 when every step went as it
// should, else the step that failed (and a line on stderr).
int disk_full_child(const std::filesystem::path& dir) {
  std::signal(SIGXFSZ, SIG_IGN); // EFBIG instead of the signal
  auto fail = [](int code, const std::string& why) {
    std::fprintf(stderr, "disk-full child: %s\n", why.c_str());
    return code;
  };
  Store st({dir, 0});
  const auto first = quotes(1, 1, 1000, day0() + 100);
  if (auto err = st.write(first)) return fail(2, err->message);

  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit tight = saved;
  tight.rlim_cur = largest_file(dir) + 64 * 1024;
  setrlimit(RLIMIT_FSIZE, &tight);
  const auto big = quotes(1, 1001, 50000, day0() + 200);
  auto err = st.write(big);
  if (!err) return fail(3, "a write past the file size limit succeeded");
  if (!err->disk_full) return fail(4, "not flagged disk_full: " + err->message);
  if (err->message.find("ticks-2026-12-04.sqlite") == std::string::npos)
    return fail(5, "the file is not named: " + err->message);
  // A new day file cannot be created either.
  tight.rlim_cur = 0;
  setrlimit(RLIMIT_FSIZE, &tight);
  const auto next_day = quotes(1, 60000, 10, day0() + 86400);
  err = st.write(next_day);
  if (!err || !err->disk_full) return fail(6, "a new day file on a full disk");

  setrlimit(RLIMIT_FSIZE, &saved); // space returns
  if (auto n = count_rows(st, 1); n != 1000) return fail(7, "rows kept: " + std::to_string(n));
  if (auto e = st.write(big)) return fail(8, "after space returned: " + e->message);
  if (auto e = st.write(next_day)) return fail(9, "new day after space returned: " + e->message);
  if (auto n = count_rows(st, 1); n != 51010) return fail(10, "rows: " + std::to_string(n));
  return 0;
}

TEST(StoreStress, DiskFullRollsBackKeepsTheFileIntactAndRecovers) {
  TempDir dir;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 1;
    try {
      code = disk_full_child(dir.path());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "disk-full child: %s\n", e.what());
    }
    _exit(code); // never back into the test runner
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the disk-full child's line above";

  Store st({dir.path(), 0});
  EXPECT_EQ(count_rows(st, 1), 51010u);
  for (const auto& f : st.day_files())
    EXPECT_EQ(query(f, "PRAGMA integrity_check"), std::vector<std::string>{"ok"}) << f;
}

TEST(StoreStress, ReadersSeeOnlyCommittedBatchesWhileTheWriterWrites) {
  TempDir dir;
  Store st({dir.path(), 0});
  constexpr std::size_t kBatch = 1000, kBatches = 40;
  std::atomic<bool> done{false};
  std::atomic<int> problems{0};
  std::thread writer([&] {
    for (std::size_t b = 0; b < kBatches; ++b) {
      // Rows spread over two days to read across files while they grow.
      const auto rows = quotes(1, 1 + b * kBatch, kBatch, day0() + 86400 - 400 + b * 20);
      if (auto err = st.write(rows)) {
        ADD_FAILURE() << err->message;
        ++problems;
      }
    }
    done = true;
  });
  auto reader = [&] {
    std::size_t previous = 0;
    for (bool finished = false; !finished;) {
      finished = done; // the read after the last commit is the last one
      std::uint64_t expect = 1;
      Query q;
      q.con_id = 1;
      q.tick_type = TickType::bid_ask;
      q.limit = static_cast<std::size_t>(-1);
      const std::size_t n = st.read(q, [&](const TickRecord& r) {
        if (r.seq != expect++) ++problems;
        return true;
      });
      if (n % kBatch != 0 || n < previous) {
        ADD_FAILURE() << "read " << n << " rows after " << previous;
        ++problems;
      }
      previous = n;
      if (auto last = st.last_recorded(1, TickType::bid_ask); last && last->seq < n) ++problems;
    }
    EXPECT_EQ(previous, kBatch * kBatches);
  };
  std::thread r1(reader), r2(reader);
  writer.join();
  r1.join();
  r2.join();
  EXPECT_EQ(problems.load(), 0);
  EXPECT_EQ(st.day_files().size(), 2u);
}

// CPU time of this thread, seconds: the rates per CPU second do not depend
// on what else the machine runs; the wall-clock ones do.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

TEST(StoreStress, PrintsWriteAndReadRates) {
  TempDir dir;
  constexpr std::size_t kRows = 200000, kBatch = 10000;
  std::vector<std::vector<TickRecord>> batches;
  for (std::size_t i = 0; i < kRows; i += kBatch)
    batches.push_back(quotes(1, 1 + i, kBatch, day0() + 1000 + static_cast<std::int64_t>(i / 50)));
  using clock = std::chrono::steady_clock;
  double write_s = 0, write_cpu = 0, read_s = 0, read_cpu = 0;
  {
    Store st({dir.path(), 0});
    auto t0 = clock::now();
    double c0 = thread_cpu_seconds();
    for (const auto& b : batches) ASSERT_FALSE(st.write(b));
    write_s = std::chrono::duration<double>(clock::now() - t0).count();
    write_cpu = thread_cpu_seconds() - c0;
    t0 = clock::now();
    c0 = thread_cpu_seconds();
    EXPECT_EQ(count_rows(st, 1), kRows);
    read_s = std::chrono::duration<double>(clock::now() - t0).count();
    read_cpu = thread_cpu_seconds() - c0;
  }
  const auto bytes = std::filesystem::file_size(dir.path() / "ticks-2026-12-04.sqlite");
  std::printf("[ store    ] %zu BidAsk rows in batches of %zu: write %.0f rows/s (%.0f per CPU "
              "second), read %.0f rows/s (%.0f per CPU second), %.1f bytes/row\n",
              kRows, kBatch, kRows / write_s, kRows / write_cpu, kRows / read_s, kRows / read_cpu,
              static_cast<double>(bytes) / kRows);
}

} // namespace
