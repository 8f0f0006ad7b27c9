// api.md §6: every setting from the environment and from its flag, the
// defaults, and one clear line for each bad value.
#include "http/server_config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using Flags = std::vector<std::pair<std::string, std::string>>;

std::variant<http::ServerConfig, std::string> load(std::map<std::string, std::string> env,
                                                   Flags flags = {}) {
  return http::load_server_config(
      [env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      flags);
}

TEST(ServerConfig, DefaultsAreTheApiTable) {
  auto r = load({});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r));
  const auto& c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.client_id, 2);
  EXPECT_EQ(c.tws_host, "127.0.0.1");
  EXPECT_EQ(c.tws_ports, (std::vector<std::uint16_t>{7497, 7496, 4002, 4001}));
  EXPECT_EQ(c.max_streams, 50);
  EXPECT_EQ(c.max_clients, 10000);
  EXPECT_EQ(c.stream_timeout, 300);
  EXPECT_EQ(c.buffer_size, 100);
  EXPECT_EQ(c.reconnect_attempts, 3);
  EXPECT_EQ(c.connection_timeout, 5);
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8000);
  EXPECT_EQ(c.cors_origins, (std::vector<std::string>{"*"}));
  EXPECT_FALSE(c.api_key);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.ws_max_connections_per_ip, 10);
  EXPECT_EQ(c.ws_max_subscriptions, 20);
  EXPECT_EQ(c.ws_max_messages_per_second, 100);
  EXPECT_EQ(c.ws_max_message_bytes, 1048576);
  EXPECT_EQ(c.ws_tws_grace, 60);
  EXPECT_EQ(c.ws_idle_timeout, 300);
  EXPECT_EQ(http::server_settings().size(), 34u); // ... _METRICS_PUBLIC, the five scale-out ones
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.retention_days, 30);
  EXPECT_TRUE(c.track.empty());
}

TEST(ServerConfig, EveryVariableIsRead) {
  auto r = load({{"IB_STREAM_CLIENT_ID", "9"},
                 {"IB_STREAM_HOST", "10.1.2.3"},
                 {"IB_STREAM_PORTS", "4002, 4001"},
                 {"IB_STREAM_MAX_STREAMS", "5"},
                 {"IB_STREAM_MAX_CLIENTS", "77"},
                 {"IB_STREAM_STREAM_TIMEOUT", "60"},
                 {"IB_STREAM_BUFFER_SIZE", "500"},
                 {"IB_STREAM_RECONNECT_ATTEMPTS", "0"},
                 {"IB_STREAM_CONNECTION_TIMEOUT", "2"},
                 {"IB_STREAM_LISTEN", "[::1]:9000"},
                 {"IB_STREAM_CORS_ORIGINS", "https://a.example,http://localhost:3000"},
                 {"IB_STREAM_API_KEY", "s3cret-key"},
                 {"IB_STREAM_LOG_LEVEL", "debug"},
                 {"IB_STREAM_LOG_FORMAT", "text"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  const auto& c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.client_id, 9);
  EXPECT_EQ(c.tws_host, "10.1.2.3");
  EXPECT_EQ(c.tws_ports, (std::vector<std::uint16_t>{4002, 4001}));
  EXPECT_EQ(c.max_streams, 5);
  EXPECT_EQ(c.max_clients, 77);
  EXPECT_EQ(c.stream_timeout, 60);
  EXPECT_EQ(c.buffer_size, 500);
  EXPECT_EQ(c.reconnect_attempts, 0);
  EXPECT_EQ(c.connection_timeout, 2);
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.cors_origins,
            (std::vector<std::string>{"https://a.example", "http://localhost:3000"}));
  EXPECT_EQ(c.api_key, "s3cret-key");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "text");
}

TEST(ServerConfig, FlagsWinOverEnvironment) {
  auto r =
      load({{"IB_STREAM_MAX_STREAMS", "5"}}, {{"--max-streams", "7"}, {"--listen", "0.0.0.0:0"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r));
  EXPECT_EQ(std::get<http::ServerConfig>(r).max_streams, 7);
  EXPECT_EQ(std::get<http::ServerConfig>(r).listen_port, 0);
}

TEST(ServerConfig, BadValuesGiveOneLineNamingTheSetting) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"IB_STREAM_CLIENT_ID", "-1"},           {"IB_STREAM_CLIENT_ID", "two"},
      {"IB_STREAM_PORTS", "7497,x"},           {"IB_STREAM_PORTS", "70000"},
      {"IB_STREAM_MAX_STREAMS", "0"},          {"IB_STREAM_MAX_CLIENTS", ""},
      {"IB_STREAM_STREAM_TIMEOUT", "4"},       {"IB_STREAM_BUFFER_SIZE", "1.5"},
      {"IB_STREAM_CONNECTION_TIMEOUT", "0"},   {"IB_STREAM_LISTEN", "8000"},
      {"IB_STREAM_LISTEN", "localhost:99999"}, {"IB_STREAM_CORS_ORIGINS", "example.com"},
      {"IB_STREAM_API_KEY", "short"},          {"IB_STREAM_LOG_LEVEL", "verbose"},
      {"IB_STREAM_LOG_FORMAT", "xml"},         {"IB_STREAM_HOST", "a b"},
  };
  for (const auto& [var, value] : bad) {
    auto r = load({{var, value}});
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << var << "=" << value;
    const auto& line = std::get<std::string>(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.rfind(var, 0), 0u) << line;
  }
  auto r = load({}, {{"--max-streams", "0"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r),
            "--max-streams='0' is invalid: must be an integer from 1 to 10000");
  EXPECT_NE(std::get<std::string>(load({}, {{"--bogus", "1"}})).find("--bogus"), std::string::npos);
}

TEST(ServerConfig, WebSocketSettingsFromEnvironmentAndFlags) {
  auto r = load({{"IB_STREAM_WS_MAX_CONNECTIONS_PER_IP", "3"},
                 {"IB_STREAM_WS_MAX_SUBSCRIPTIONS", "4"},
                 {"IB_STREAM_WS_MAX_MESSAGES_PER_SECOND", "5"},
                 {"IB_STREAM_WS_MAX_MESSAGE_BYTES", "2048"},
                 {"IB_STREAM_WS_TWS_GRACE", "0"},
                 {"IB_STREAM_WS_IDLE_TIMEOUT", "30"}},
                {{"--ws-max-subscriptions", "6"}, {"--ws-tws-grace", "7"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  const auto& c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.ws_max_connections_per_ip, 3);
  EXPECT_EQ(c.ws_max_subscriptions, 6);
  EXPECT_EQ(c.ws_max_messages_per_second, 5);
  EXPECT_EQ(c.ws_max_message_bytes, 2048);
  EXPECT_EQ(c.ws_tws_grace, 7);
  EXPECT_EQ(c.ws_idle_timeout, 30);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"IB_STREAM_WS_MAX_CONNECTIONS_PER_IP", "0"},
      {"IB_STREAM_WS_MAX_SUBSCRIPTIONS", "1001"},
      {"IB_STREAM_WS_MAX_MESSAGES_PER_SECOND", "many"},
      {"IB_STREAM_WS_MAX_MESSAGE_BYTES", "100"},
      {"IB_STREAM_WS_TWS_GRACE", "-1"},
      {"IB_STREAM_WS_IDLE_TIMEOUT", "1"},
      {"IB_STREAM_WS_IDLE_TIMEOUT", "86401"},
      {"IB_STREAM_WS_IDLE_TIMEOUT", "2.5"},
  };
  for (const auto& [var, value] : bad) {
    auto e = load({{var, value}});
    ASSERT_TRUE(std::holds_alternative<std::string>(e)) << var << "=" << value;
    const auto& line = std::get<std::string>(e);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.rfind(var, 0), 0u) << line;
  }
  EXPECT_EQ(std::get<std::string>(load({}, {{"--ws-max-message-bytes", "10"}})),
            "--ws-max-message-bytes='10' is invalid: must be an integer from 1024 to 67108864");
  EXPECT_NE(http::server_usage().find("IB_STREAM_WS_TWS_GRACE"), std::string::npos);

  // The idle timeout: env, flag (the flag wins), bounds 2..86400.
  auto idle = load({{"IB_STREAM_WS_IDLE_TIMEOUT", "2"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(idle)) << std::get<std::string>(idle);
  EXPECT_EQ(std::get<http::ServerConfig>(idle).ws_idle_timeout, 2);
  idle = load({{"IB_STREAM_WS_IDLE_TIMEOUT", "10"}}, {{"--ws-idle-timeout", "86400"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(idle)) << std::get<std::string>(idle);
  EXPECT_EQ(std::get<http::ServerConfig>(idle).ws_idle_timeout, 86400);
  EXPECT_EQ(std::get<std::string>(load({}, {{"--ws-idle-timeout", "0"}})),
            "--ws-idle-timeout='0' is invalid: must be an integer from 2 to 86400");
  EXPECT_NE(http::server_usage().find("--ws-idle-timeout"), std::string::npos);
  EXPECT_NE(http::server_usage().find("IB_STREAM_WS_IDLE_TIMEOUT"), std::string::npos);
}

TEST(ServerConfig, EmptyApiKeyMeansNoAuthentication) {
  auto r = load({{"IB_STREAM_API_KEY", ""}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r));
  EXPECT_FALSE(std::get<http::ServerConfig>(r).api_key);
}

TEST(ServerConfig, ServerFlagsDefaultsAndValues) {
  auto d = load({});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(d));
  const auto& c0 = std::get<http::ServerConfig>(d);
  EXPECT_FALSE(c0.simulate);
  EXPECT_EQ(c0.sim_seed, 1u);
  EXPECT_EQ(c0.sim_rate, 4.0);
  EXPECT_FALSE(c0.sim_admin_port);
  EXPECT_EQ(c0.linger_ms, 5000);
  EXPECT_EQ(c0.watchdog_silence_ms, 30000);
  EXPECT_EQ(c0.keepalive_seconds, 15);
  EXPECT_EQ(c0.drain_seconds, 5);
  EXPECT_EQ(c0.backoff_max_ms, 30000);

  auto r = load({}, {{"--simulate", ""},
                     {"--sim-seed", "42"},
                     {"--sim-rate", "50.5"},
                     {"--sim-admin-port", "0"},
                     {"--linger-ms", "0"},
                     {"--watchdog-silence-ms", "2000"},
                     {"--keepalive-seconds", "1"},
                     {"--drain-seconds", "0"},
                     {"--backoff-max-ms", "1000"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  const auto& c = std::get<http::ServerConfig>(r);
  EXPECT_TRUE(c.simulate);
  EXPECT_EQ(c.sim_seed, 42u);
  EXPECT_EQ(c.sim_rate, 50.5);
  EXPECT_EQ(c.sim_admin_port, 0);
  EXPECT_EQ(c.linger_ms, 0);
  EXPECT_EQ(c.watchdog_silence_ms, 2000);
  EXPECT_EQ(c.keepalive_seconds, 1);
  EXPECT_EQ(c.drain_seconds, 0);
  EXPECT_EQ(c.backoff_max_ms, 1000);
}

TEST(ServerConfig, BadServerFlagsGiveOneLine) {
  const Flags bad = {
      {"--simulate", "yes"},         {"--sim-seed", "-1"},       {"--sim-rate", "0"},
      {"--sim-admin-port", "70000"}, {"--linger-ms", "x"},       {"--watchdog-silence-ms", "5"},
      {"--keepalive-seconds", "0"},  {"--drain-seconds", "601"}, {"--backoff-max-ms", ""}};
  for (const auto& f : bad) {
    auto r = load({}, {f});
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << f.first << "=" << f.second;
    const auto& line = std::get<std::string>(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.rfind(f.first, 0), 0u) << line;
  }
  EXPECT_EQ(std::get<std::string>(load({}, {{"--keepalive-seconds", "0"}})),
            "--keepalive-seconds='0' is invalid: must be an integer from 1 to 3600");
}

TEST(ServerConfig, CommandLineIsSplitIntoFlags) {
  auto r = http::parse_command_line(
      {"--simulate", "--listen", "127.0.0.1:0", "--sim-seed=7", "--max-streams", "3"});
  ASSERT_TRUE(std::holds_alternative<http::CommandLine>(r)) << std::get<std::string>(r);
  const auto& cl = std::get<http::CommandLine>(r);
  EXPECT_FALSE(cl.help);
  EXPECT_EQ(cl.flags, (Flags{{"--simulate", ""},
                             {"--listen", "127.0.0.1:0"},
                             {"--sim-seed", "7"},
                             {"--max-streams", "3"}}));
  auto c = load({}, cl.flags);
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(c));
  EXPECT_TRUE(std::get<http::ServerConfig>(c).simulate);
  EXPECT_EQ(std::get<http::ServerConfig>(c).listen_port, 0);

  EXPECT_TRUE(std::get<http::CommandLine>(http::parse_command_line({"--help"})).help);
  EXPECT_TRUE(std::holds_alternative<std::string>(http::parse_command_line({"--listen"})));
  EXPECT_TRUE(std::holds_alternative<std::string>(http::parse_command_line({"8000"})));
  EXPECT_NE(http::server_usage().find("IB_STREAM_API_KEY"), std::string::npos);
  EXPECT_NE(http::server_usage().find("--drain-seconds"), std::string::npos);
}

} // namespace

namespace {

TEST(ServerConfig, TrackedStreamsFromEnvironmentAndFlag) {
  auto r = load({{"IB_STREAM_TRACK", "265598:BidAsk,Last"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  const auto& c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.track.at(265598),
            (std::set<tws::TickType>{tws::TickType::bid_ask, tws::TickType::last}));
  r = load({{"IB_STREAM_TRACK", "1:Last"}}, {{"--track", "2:MidPoint"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r));
  EXPECT_EQ(std::get<http::ServerConfig>(r).track.count(2), 1u) << "the flag wins";
  EXPECT_EQ(std::get<http::ServerConfig>(r).track.count(1), 0u);
  r = load({{"IB_STREAM_TRACK", "265598:Bid"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  const auto& err = std::get<std::string>(r);
  EXPECT_NE(err.find("IB_STREAM_TRACK"), std::string::npos) << err;
  EXPECT_NE(err.find("'Bid'"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << "one line";
  r = load({}, {{"--track", "abc"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("--track"), std::string::npos);
}

} // namespace

namespace {

// README "Scale-out": the role settings, and the combinations that cannot work.
TEST(ServerConfig, ScaleOutSettings) {
  auto r = load({});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r));
  EXPECT_TRUE(std::get<http::ServerConfig>(r).nats.empty()) << "a single node by default";
  EXPECT_FALSE(http::is_edge(std::get<http::ServerConfig>(r)));

  r = load({{"IB_STREAM_NATS", "nats://127.0.0.1:4222"}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  auto c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.role, "edge") << "an edge unless told otherwise";
  EXPECT_TRUE(http::is_edge(c));
  EXPECT_EQ(c.nats_max_age, 86400);
  EXPECT_EQ(c.nats_max_bytes, 1LL << 30);
  EXPECT_EQ(c.lease_ms, 3000);

  r = load({{"IB_STREAM_NATS", "nats://a:4222,nats://b:4222"},
            {"IB_STREAM_ROLE", "publisher"},
            {"IB_STREAM_NODE_NAME", "pub-a"},
            {"IB_STREAM_NATS_MAX_AGE", "3600"},
            {"IB_STREAM_NATS_MAX_BYTES", "1048576"}},
           {{"--lease-ms", "1500"}, {"--simulate", ""}});
  ASSERT_TRUE(std::holds_alternative<http::ServerConfig>(r)) << std::get<std::string>(r);
  c = std::get<http::ServerConfig>(r);
  EXPECT_EQ(c.role, "publisher");
  EXPECT_FALSE(http::is_edge(c));
  EXPECT_EQ(c.node_name, "pub-a");
  EXPECT_EQ(c.nats_max_age, 3600);
  EXPECT_EQ(c.nats_max_bytes, 1048576);
  EXPECT_EQ(c.lease_ms, 1500);

  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> bad = {
      {{{"IB_STREAM_NATS", "127.0.0.1:4222"}}, "IB_STREAM_NATS='127.0.0.1:4222' is invalid"},
      {{{"IB_STREAM_NATS", "nats://a b"}}, "IB_STREAM_NATS"},
      {{{"IB_STREAM_NATS", "nats://a:1"}, {"IB_STREAM_ROLE", "leader"}}, "IB_STREAM_ROLE"},
      {{{"IB_STREAM_ROLE", "edge"}}, "IB_STREAM_ROLE (--role) needs IB_STREAM_NATS"},
      {{{"IB_STREAM_NATS", "nats://a:1"}, {"IB_STREAM_NODE_NAME", "a/b"}}, "IB_STREAM_NODE_NAME"},
      {{{"IB_STREAM_NATS", "nats://a:1"}, {"IB_STREAM_NATS_MAX_AGE", "59"}},
       "IB_STREAM_NATS_MAX_AGE"},
      {{{"IB_STREAM_NATS", "nats://a:1"}, {"IB_STREAM_NATS_MAX_BYTES", "1000"}},
       "IB_STREAM_NATS_MAX_BYTES"},
      {{{"IB_STREAM_NATS", "nats://a:1"}, {"IB_STREAM_TRACK", "265598:Last"}},
       "IB_STREAM_TRACK (--track) is for the publisher"},
  };
  for (const auto& [env, says] : bad) {
    r = load(env);
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << says;
    EXPECT_EQ(std::get<std::string>(r).rfind(says, 0), 0u) << std::get<std::string>(r);
  }
  r = load({{"IB_STREAM_NATS", "nats://a:1"}}, {{"--simulate", ""}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r).rfind("--simulate is for the publisher", 0), 0u);
  r = load({}, {{"--lease-ms", "100"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
}

} // namespace
