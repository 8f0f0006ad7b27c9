// store::Store and the files of its directory: retention (whole day files
// with their -wal and -shm, and old gaps), files that are not ours (never
// written to, a clear error naming them), a directory that cannot be used.
#include "store/store.hpp"
#include "store_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace store_test;
using store::Store;
using store::TickRecord;
using tws::TickType;

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_days(Store& st, std::initializer_list<int> days) {
  std::vector<TickRecord> rows;
  for (int d : days) rows.push_back(last(1, 1000 + d, day0() + d * 86400 + 10, d));
  ASSERT_FALSE(st.write(rows));
}

TEST(StoreFiles, RetentionDeletesWholeDayFilesOlderThanItsDays) {
  TempDir dir;
  Store st({dir.path(), 30});
  write_days(st, {-40, -31, -30, -1, 0});
  ASSERT_EQ(st.day_files().size(), 5u);
  for (const auto& f : st.day_files()) ASSERT_TRUE(std::filesystem::exists(f.string() + "-wal"));
  EXPECT_EQ(read_all(st, 1, TickType::last).size(), 5u); // readers hold pooled connections
  const auto gap = [](std::uint64_t after_seq, std::int64_t from, std::int64_t to,
                      store::Gap::State state) {
    store::Gap g;
    g.con_id = 1;
    g.tick_type = TickType::last;
    g.after_seq = after_seq;
    g.from_time = from;
    g.to_time = to;
    g.state = state;
    return g;
  };
  store::Gap old_gap = gap(1, day0() - 35 * 86400, day0() - 34 * 86400, store::Gap::State::filled);
  store::Gap open_gap = gap(2, day0() - 35 * 86400, 0, store::Gap::State::open);
  ASSERT_FALSE(st.add_gap(old_gap));
  ASSERT_FALSE(st.add_gap(open_gap));

  const auto removed = st.enforce_retention(day0() + 3600);
  EXPECT_EQ(removed, (std::vector{dir.path() / "ticks-2026-10-25.sqlite",
                                  dir.path() / "ticks-2026-11-03.sqlite"}));
  for (const auto& p : removed)
    for (const char* suffix : {"", "-wal", "-shm"})
      EXPECT_FALSE(std::filesystem::exists(p.string() + suffix)) << p << suffix;
  EXPECT_EQ(st.day_files().size(), 3u);
  const auto rows = read_all(st, 1, TickType::last);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].seq, 970u);
  const auto gaps = st.gaps(1);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].id, open_gap.id);
  EXPECT_TRUE(st.enforce_retention(day0() + 3600).empty());
  // The writer's connection to a deleted day closed: writing it again works.
  write_days(st, {-31});
  EXPECT_EQ(st.day_files().size(), 4u);
}

TEST(StoreFiles, RetentionZeroKeepsEverything) {
  TempDir dir;
  Store st({dir.path(), 0});
  write_days(st, {-400, -40, 0});
  EXPECT_TRUE(st.enforce_retention(day0() + 365 * 86400).empty());
  EXPECT_EQ(st.day_files().size(), 3u);
}

TEST(StoreFiles, ADayFileThatIsNotSqliteIsNamedAndLeftAlone) {
  TempDir dir;
  const auto bogus = dir.path() / "ticks-2026-12-04.sqlite";
  { std::ofstream(bogus) << "these are my notes, not a database\n"; }
  try {
    Store st({dir.path(), 0});
    FAIL() << "opened a directory with a foreign day file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bogus.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not an SQLite database"), std::string::npos) << e.what();
  }
  EXPECT_EQ(file_text(bogus), "these are my notes, not a database\n");

  // The same file appearing while the store runs: write and read say so.
  std::filesystem::remove(bogus);
  Store st({dir.path(), 0});
  { std::ofstream(bogus) << "these are my notes, not a database\n"; }
  std::vector rows = {last(1, 1, day0() + 5, 1)};
  auto err = st.write(rows);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find(bogus.string()), std::string::npos) << err->message;
  EXPECT_FALSE(err->disk_full);
  EXPECT_THROW(read_all(st, 1, TickType::last), std::runtime_error);
  EXPECT_EQ(file_text(bogus), "these are my notes, not a database\n");
  EXPECT_FALSE(std::filesystem::exists(bogus.string() + "-wal"));
}

TEST(StoreFiles, AnSqliteDatabaseOfOtherTablesIsNotOurs) {
  TempDir dir;
  const auto other = dir.path() / "ticks-2026-12-04.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE recipes (name TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    Store st({dir.path(), 0});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(other.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'ticks'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(query(other, "SELECT name FROM sqlite_schema"), std::vector<std::string>{"recipes"});
}

TEST(StoreFiles, AnEmptyFileBecomesADayFile) {
  TempDir dir;
  { std::ofstream(dir.path() / "ticks-2026-12-04.sqlite"); } // left by a failed first write
  Store st({dir.path(), 0});
  std::vector rows = {last(1, 1, day0() + 5, 1)};
  ASSERT_FALSE(st.write(rows));
  EXPECT_EQ(read_all(st, 1, TickType::last).size(), 1u);
}

TEST(StoreFiles, ADirectoryThatCannotBeUsedIsAClearError) {
  TempDir dir;
  const auto file = dir.path() / "plain-file";
  { std::ofstream(file) << "x"; }
  EXPECT_THROW(Store({file, 0}), std::runtime_error);
  try {
    Store st({file / "sub", 0});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("plain-file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Store({dir.path() / "d", -1}), std::runtime_error);
  { std::ofstream(dir.path() / "meta.sqlite") << "not a database at all, really"; }
  EXPECT_THROW(Store({dir.path(), 0}), std::runtime_error);
}

} // namespace
