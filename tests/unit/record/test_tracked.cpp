// The --track value, the tick type lists of POST /tracked, tracked.json.
#include "record/tracked.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

using record::parse_track_spec;
using tws::TickType;

TEST(TrackSpec, ParsesContractsAndTypes) {
  std::string err;
  auto set = parse_track_spec("265598:BidAsk,Last;711280073:bidask, LAST ;", err);
  ASSERT_TRUE(set) << err;
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ(set->at(265598), (std::set<TickType>{TickType::bid_ask, TickType::last}));
  EXPECT_EQ(set->at(711280073), (std::set<TickType>{TickType::bid_ask, TickType::last}));
  EXPECT_EQ(record::format_track_spec(*set), "265598:Last,BidAsk;711280073:Last,BidAsk");
}

TEST(TrackSpec, EmptyIsNothing) {
  std::string err;
  auto set = parse_track_spec("", err);
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->empty());
}

TEST(TrackSpec, MergesRepeatedContracts) {
  std::string err;
  auto set = parse_track_spec("1:Last;1:MidPoint", err);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->at(1), (std::set<TickType>{TickType::last, TickType::mid_point}));
}

TEST(TrackSpec, NamesTheBadPart) {
  const std::pair<const char*, const char*> bad[] = {
      {"265598", "has no tick types"},
      {"abc:Last", "'abc'"},
      {"-5:Last", "'-5'"},
      {"0:Last", "'0'"},
      {"265598:Bid", "unknown tick type 'Bid'"},
      {"265598:Last,,BidAsk", "empty tick type"},
      {"265598:", "empty tick type"},
      {"99999999999:Last", "'99999999999'"},
  };
  for (const auto& [spec, part] : bad) {
    std::string err;
    EXPECT_FALSE(parse_track_spec(spec, err)) << spec;
    EXPECT_NE(err.find(part), std::string::npos) << spec << " -> " << err;
  }
}

TEST(TrackSpec, ContractsMayBeSpecsWithTheTickTypesAfterTheLastColon) {
  std::string err;
  record::TrackedSpecs specs;
  const auto set =
      parse_track_spec("265598:Last;ES:FUT:CME:USD:202703:BidAsk,Last;aapl:MidPoint", err, &specs);
  ASSERT_TRUE(set) << err;
  EXPECT_EQ(set->size(), 1u);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs.at("ES:FUT:CME:USD:202703"),
            (std::set<tws::TickType>{tws::TickType::bid_ask, tws::TickType::last}));
  EXPECT_EQ(specs.at("AAPL:STK:SMART:USD"), std::set<tws::TickType>{tws::TickType::mid_point});
  // Without a place for specs (tracked.json, POST /tracked) only ids are taken.
  EXPECT_FALSE(parse_track_spec("AAPL:Last", err));
  EXPECT_NE(err.find("'AAPL'"), std::string::npos) << err;
  // A spec that is malformed, or tick types forgotten, are named.
  EXPECT_FALSE(parse_track_spec("ES:FUTURE:Last", err, &specs));
  EXPECT_NE(err.find("FUTURE"), std::string::npos) << err;
  EXPECT_FALSE(parse_track_spec("ES:FUT:CME", err, &specs));
  EXPECT_NE(err.find("'CME'"), std::string::npos) << err;
}

TEST(TrackedFile, SavesAndLoads) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ibs-tracked-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  record::TrackedFile file(dir);
  EXPECT_TRUE(file.load().empty());
  record::TrackedSet set{{265598, {TickType::bid_ask, TickType::last}},
                         {12, {TickType::mid_point}}};
  EXPECT_EQ(file.save(set), "");
  EXPECT_EQ(file.load(), set);
  {
    std::ofstream out(file.path());
    out << "{not json";
  }
  try {
    file.load();
    FAIL() << "a broken file must not load";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tracked.json"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

} // namespace
