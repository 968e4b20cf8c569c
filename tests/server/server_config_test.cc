// dengine-server's configuration against etcd 3.4.23's: defaults, the two flag forms, ETCD_*
// variables, the config file and its precedence, and every validation error, whose message must
// name the setting and the bad value.

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "dengine/member_config.h"

namespace dengine::cluster::test {
namespace {

using Env = std::map<std::string, std::string>;

Result<MemberConfig> parse(const std::vector<std::string>& args, const Env& env = {}) {
  return parse_member_config(args, env);
}

// The error message of a parse that must fail ("" and a test failure if it succeeded).
std::string error_of(const std::vector<std::string>& args, const Env& env = {}) {
  auto config = parse(args, env);
  EXPECT_FALSE(config.has_value()) << "expected an error for the given arguments";
  return config.has_value() ? std::string() : config.status().message();
}

testing::AssertionResult has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

Url url(const std::string& text) {
  auto parsed = parse_url(text, "test");
  EXPECT_TRUE(parsed.has_value()) << parsed.status().to_string();
  return parsed.has_value() ? *parsed : Url{};
}

std::vector<std::string> texts(const std::vector<Url>& urls) {
  std::vector<std::string> out;
  for (const Url& u : urls) out.push_back(u.text);
  return out;
}

// A config file under /tmp that is removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/dengine_server_config_XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The flags of member `name` of a three-member cluster on 10.0.1.10-12.
std::vector<std::string> three_member_flags(const std::string& name, const std::string& ip) {
  return {"--name",
          name,
          "--initial-advertise-peer-urls",
          "http://" + ip + ":2380",
          "--listen-peer-urls",
          "http://" + ip + ":2380",
          "--listen-client-urls",
          "http://" + ip + ":2379,http://127.0.0.1:2379",
          "--advertise-client-urls",
          "http://" + ip + ":2379",
          "--initial-cluster-token",
          "etcd-cluster-1",
          "--initial-cluster",
          "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380",
          "--initial-cluster-state",
          "new"};
}

// ---- defaults ----------------------------------------------------------------------------------

TEST(ServerConfigDefaults, NoArgumentsGiveSingleNodeNamedDefaultOnLoopback) {
  auto config = parse({});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->action, ConfigAction::kRun);
  EXPECT_EQ(config->name, "default");
  EXPECT_EQ(config->data_dir, "default.dengine");
  EXPECT_EQ(texts(config->listen_client_urls), std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(texts(config->advertise_client_urls),
            std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(texts(config->listen_peer_urls), std::vector<std::string>{"http://127.0.0.1:2380"});
  EXPECT_EQ(texts(config->initial_advertise_peer_urls),
            std::vector<std::string>{"http://127.0.0.1:2380"});
  EXPECT_EQ(format_initial_cluster(config->initial_cluster), "default=http://127.0.0.1:2380");
  EXPECT_EQ(config->initial_cluster_state, InitialClusterState::kNew);
  EXPECT_EQ(config->initial_cluster_token, "etcd-cluster");
  EXPECT_EQ(config->heartbeat_interval_ms, 100u);
  EXPECT_EQ(config->election_timeout_ms, 1000u);
  EXPECT_EQ(config->snapshot_count, 100000u);
  EXPECT_EQ(config->snapshot_catchup_entries, 5000u);
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 600000u);
  EXPECT_EQ(config->quota_backend_bytes, 0);
  EXPECT_EQ(config->max_request_bytes, 1572864u);
  EXPECT_EQ(config->max_txn_ops, 128u);
  EXPECT_EQ(config->log_level, "info");
  EXPECT_TRUE(config->config_file.empty());
  EXPECT_TRUE(config->warnings.empty());
}

TEST(ServerConfigDefaults, DefaultConstructedConfigEqualsParsedDefaults) {
  auto parsed = parse({});
  ASSERT_TRUE(parsed.has_value());
  const MemberConfig built;
  EXPECT_EQ(parsed->data_dir, built.data_dir);
  EXPECT_EQ(parsed->listen_client_urls, built.listen_client_urls);
  EXPECT_EQ(parsed->initial_cluster, built.initial_cluster);
}

TEST(ServerConfigDefaults, NameAloneNamesTheDataDirAndTheInitialCluster) {
  auto config = parse({"--name", "infra0"});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->data_dir, "infra0.dengine");
  EXPECT_EQ(format_initial_cluster(config->initial_cluster), "infra0=http://127.0.0.1:2380");
}

TEST(ServerConfigDefaults, DefaultInitialClusterFollowsAdvertisedPeerUrls) {
  auto config =
      parse({"--initial-advertise-peer-urls", "http://10.0.0.1:2380,http://10.0.0.2:2380"});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(format_initial_cluster(config->initial_cluster),
            "default=http://10.0.0.1:2380,default=http://10.0.0.2:2380");
}

TEST(ServerConfigDefaults, ExplicitDataDirIsKept) {
  auto config = parse({"--name", "infra0", "--data-dir", "/var/lib/dengine"});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->data_dir, "/var/lib/dengine");
}

TEST(ServerConfigDefaults, EmptyDataDirFallsBackToNameDotDengine) {
  auto config = parse({"--name=infra1", "--data-dir="});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->data_dir, "infra1.dengine");
}

TEST(ServerConfigDefaults, SnapshotCountZeroMeansTheDefault) {
  auto config = parse({"--snapshot-count=0"});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->snapshot_count, 100000u);
  EXPECT_EQ(config->snapshot_catchup_entries, 5000u);
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 600000u);
}

// ---- flag syntax -------------------------------------------------------------------------------

TEST(ServerConfigFlags, DurationsAreGoDurations) {
  EXPECT_EQ(parse({}).value().watch_progress_notify_interval_ms, 600'000U);
  auto config = parse({"--experimental-watch-progress-notify-interval=1m30s"});
  ASSERT_TRUE(config) << config.status().message();
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 90'000U);
  config = parse({"--experimental-watch-progress-notify-interval=1.5s"});
  ASSERT_TRUE(config) << config.status().message();
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 1'500U);
  config = parse({"--experimental-watch-progress-notify-interval=250ms"});
  ASSERT_TRUE(config) << config.status().message();
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 250U);
  config = parse({"--experimental-watch-progress-notify-interval=500us"});
  ASSERT_TRUE(config) << config.status().message();
  EXPECT_EQ(config->watch_progress_notify_interval_ms, 1U);
  for (const char* bad : {"5", "ms", "1x", "", "-1s", "1h2", "1.2.3s"}) {
    auto refused = parse({std::string("--experimental-watch-progress-notify-interval=") + bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.status().message().find("--experimental-watch-progress-notify-interval"),
              std::string::npos)
        << refused.status().message();
  }
}

TEST(ServerConfigFlags, ValueMayFollowAsNextArgument) {
  auto config = parse({"--heartbeat-interval", "50", "--election-timeout", "500"});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->heartbeat_interval_ms, 50u);
  EXPECT_EQ(config->election_timeout_ms, 500u);
}

TEST(ServerConfigFlags, ValueMayFollowAnEqualsSign) {
  auto config = parse({"--heartbeat-interval=50", "--election-timeout=500", "--log-level=debug"});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->heartbeat_interval_ms, 50u);
  EXPECT_EQ(config->election_timeout_ms, 500u);
  EXPECT_EQ(config->log_level, "debug");
}

TEST(ServerConfigFlags, SingleDashWorksAsInGo) {
  auto config = parse({"-name", "infra0", "-snapshot-count=7"});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "infra0");
  EXPECT_EQ(config->snapshot_count, 7u);
}

TEST(ServerConfigFlags, RepeatedFlagKeepsTheLastValue) {
  auto config = parse({"--max-txn-ops=5", "--max-txn-ops", "9"});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->max_txn_ops, 9u);
}

TEST(ServerConfigFlags, ThreeMemberClusterFlagsParse) {
  auto config = parse(three_member_flags("infra1", "10.0.1.11"));
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "infra1");
  EXPECT_EQ(config->initial_cluster_token, "etcd-cluster-1");
  ASSERT_EQ(config->initial_cluster.size(), 3u);
  EXPECT_EQ(config->initial_cluster[1].name, "infra1");
  EXPECT_EQ(texts(config->listen_client_urls),
            (std::vector<std::string>{"http://10.0.1.11:2379", "http://127.0.0.1:2379"}));
}

TEST(ServerConfigFlags, UnknownFlagIsNamed) {
  EXPECT_EQ(error_of({"--foo", "1"}), "unknown flag: --foo");
}

TEST(ServerConfigFlags, EtcdFlagsDengineLacksAreUnknown) {
  EXPECT_TRUE(has(error_of({"--wal-dir=/x"}), "unknown flag: --wal-dir"));
}

TEST(ServerConfigFlags, MissingValueAtTheEndIsNamed) {
  EXPECT_EQ(error_of({"--name"}), "flag needs an argument: --name");
}

TEST(ServerConfigFlags, AnotherFlagIsNotTakenAsAValue) {
  EXPECT_EQ(error_of({"--name", "--data-dir", "x"}), "flag needs an argument: --name");
}

TEST(ServerConfigFlags, PositionalArgumentIsNotAValidFlag) {
  EXPECT_EQ(error_of({"--name", "a", "extra"}), "'extra' is not a valid flag");
}

TEST(ServerConfigFlags, ArgumentsAfterDoubleDashAreRejected) {
  EXPECT_EQ(error_of({"--", "--name=a"}), "'--name=a' is not a valid flag");
}

TEST(ServerConfigFlags, ThreeDashesAreBadSyntax) {
  EXPECT_EQ(error_of({"---name=a"}), "bad flag syntax: ---name=a");
}

TEST(ServerConfigFlags, HelpInEitherFormAsksForHelp) {
  for (const std::string form : {"-h", "--help", "-help", "--h"}) {
    auto config = parse({form});
    ASSERT_TRUE(config.has_value()) << form;
    EXPECT_EQ(config->action, ConfigAction::kHelp) << form;
  }
}

TEST(ServerConfigFlags, HelpWinsOverLaterBadFlags) {
  auto config = parse({"--help", "--no-such-flag"});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->action, ConfigAction::kHelp);
}

TEST(ServerConfigFlags, VersionAsksForTheVersion) {
  auto config = parse({"--version"});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->action, ConfigAction::kVersion);
}

TEST(ServerConfigFlags, VersionStillRejectsBadFlagValues) {
  EXPECT_TRUE(has(error_of({"--version", "--heartbeat-interval=x"}), "--heartbeat-interval"));
}

TEST(ServerConfigFlags, UsageListsEveryFlagWithItsDefault) {
  const std::string usage = member_config_usage();
  for (const std::string line : {"--config-file ''",
                                 "--name 'default'",
                                 "--data-dir '${name}.dengine'",
                                 "--listen-client-urls 'http://127.0.0.1:2379'",
                                 "--advertise-client-urls 'http://127.0.0.1:2379'",
                                 "--listen-peer-urls 'http://127.0.0.1:2380'",
                                 "--initial-advertise-peer-urls 'http://127.0.0.1:2380'",
                                 "--initial-cluster '${name}=${initial-advertise-peer-urls}'",
                                 "--initial-cluster-state 'new'",
                                 "--initial-cluster-token 'etcd-cluster'",
                                 "--heartbeat-interval '100'",
                                 "--election-timeout '1000'",
                                 "--snapshot-count '100000'",
                                 "--quota-backend-bytes '0'",
                                 "--max-request-bytes '1572864'",
                                 "--max-txn-ops '128'",
                                 "--log-level 'info'",
                                 "--version",
                                 "--help",
                                 "ETCD_"}) {
    EXPECT_TRUE(has(usage, line));
  }
}

// ---- environment -------------------------------------------------------------------------------

TEST(ServerConfigEnvironment, EtcdVariablesSetTheirFlags) {
  auto config = parse({}, {{"ETCD_NAME", "infra2"},
                           {"ETCD_HEARTBEAT_INTERVAL", "20"},
                           {"ETCD_ELECTION_TIMEOUT", "200"},
                           {"ETCD_INITIAL_CLUSTER_STATE", "existing"},
                           {"ETCD_MAX_TXN_OPS", "64"}});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "infra2");
  EXPECT_EQ(config->data_dir, "infra2.dengine");
  EXPECT_EQ(config->heartbeat_interval_ms, 20u);
  EXPECT_EQ(config->election_timeout_ms, 200u);
  EXPECT_EQ(config->initial_cluster_state, InitialClusterState::kExisting);
  EXPECT_EQ(config->max_txn_ops, 64u);
}

TEST(ServerConfigEnvironment, FlagsAndVariablesForDifferentSettingsCombine) {
  auto config = parse({"--name", "infra0"}, {{"ETCD_DATA_DIR", "/data"}});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "infra0");
  EXPECT_EQ(config->data_dir, "/data");
}

TEST(ServerConfigEnvironment, EmptyVariableCountsAsUnset) {
  auto config = parse({}, {{"ETCD_NAME", ""}});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->name, "default");
}

TEST(ServerConfigEnvironment, VariableShadowedByFlagIsAnErrorNamingBoth) {
  const std::string error = error_of({"--name", "a"}, {{"ETCD_NAME", "b"}});
  EXPECT_TRUE(has(error,
                  "conflicting environment variable \"ETCD_NAME\" is shadowed by "
                  "corresponding command-line flag --name"));
}

TEST(ServerConfigEnvironment, EvenAnEmptyShadowedVariableIsAnError) {
  EXPECT_TRUE(has(error_of({"--data-dir=x"}, {{"ETCD_DATA_DIR", ""}}), "ETCD_DATA_DIR"));
}

TEST(ServerConfigEnvironment, UnrecognizedEtcdVariableIsOnlyAWarning) {
  auto config = parse({}, {{"ETCD_WAL_DIR", "/wal"}, {"PATH", "/bin"}});
  ASSERT_TRUE(config.has_value());
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_TRUE(has(config->warnings[0], "unrecognized environment variable ETCD_WAL_DIR"));
}

TEST(ServerConfigEnvironment, InvalidValueNamesTheVariableAndTheFlag) {
  const std::string error = error_of({}, {{"ETCD_SNAPSHOT_COUNT", "many"}});
  EXPECT_TRUE(has(error, "\"many\""));
  EXPECT_TRUE(has(error, "ETCD_SNAPSHOT_COUNT"));
  EXPECT_TRUE(has(error, "--snapshot-count"));
}

// ---- config file -------------------------------------------------------------------------------

TEST(ServerConfigFile, EveryKeyIsRead) {
  const TempFile file(
      "name: infra1\n"
      "data-dir: /var/lib/infra1\n"
      "listen-client-urls: http://10.0.1.11:2379,http://127.0.0.1:2379\n"
      "advertise-client-urls: http://10.0.1.11:2379\n"
      "listen-peer-urls: http://10.0.1.11:2380\n"
      "initial-advertise-peer-urls: http://10.0.1.11:2380\n"
      "initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380\n"
      "initial-cluster-state: existing\n"
      "initial-cluster-token: tok\n"
      "heartbeat-interval: 50\n"
      "election-timeout: 500\n"
      "snapshot-count: 10\n"
      "quota-backend-bytes: 8589934592\n"
      "max-request-bytes: 1024\n"
      "max-txn-ops: 16\n"
      "log-level: warn\n");
  auto config = parse({"--config-file", file.path()});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->config_file, file.path());
  EXPECT_EQ(config->name, "infra1");
  EXPECT_EQ(config->data_dir, "/var/lib/infra1");
  EXPECT_EQ(config->listen_client_urls.size(), 2u);
  EXPECT_EQ(texts(config->advertise_client_urls),
            std::vector<std::string>{"http://10.0.1.11:2379"});
  EXPECT_EQ(config->listen_peer_urls[0].host, "10.0.1.11");
  EXPECT_EQ(config->initial_advertise_peer_urls[0].port, 2380);
  EXPECT_EQ(config->initial_cluster.size(), 2u);
  EXPECT_EQ(config->initial_cluster_state, InitialClusterState::kExisting);
  EXPECT_EQ(config->initial_cluster_token, "tok");
  EXPECT_EQ(config->heartbeat_interval_ms, 50u);
  EXPECT_EQ(config->election_timeout_ms, 500u);
  EXPECT_EQ(config->snapshot_count, 10u);
  EXPECT_EQ(config->quota_backend_bytes, 8589934592);
  EXPECT_EQ(config->max_request_bytes, 1024u);
  EXPECT_EQ(config->max_txn_ops, 16u);
  EXPECT_EQ(config->log_level, "warn");
  EXPECT_TRUE(config->warnings.empty());
}

TEST(ServerConfigFile, OtherFlagsAndVariablesAreIgnoredWithAWarning) {
  const TempFile file("name: fromfile\n");
  auto config = parse({"--config-file=" + file.path(), "--name", "fromflag"},
                      {{"ETCD_DATA_DIR", "/fromenv"}});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "fromfile");
  EXPECT_EQ(config->data_dir, "fromfile.dengine");
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_TRUE(has(config->warnings[0], "--name"));
  EXPECT_TRUE(has(config->warnings[0], "ETCD_DATA_DIR"));
}

TEST(ServerConfigFile, EtcdConfigFileVariableSelectsTheFile) {
  const TempFile file("name: fromfile\n");
  auto config = parse({"--name", "fromflag"}, {{"ETCD_CONFIG_FILE", file.path()}});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "fromfile");
}

TEST(ServerConfigFile, FileModeDoesNotCheckForShadowedVariables) {
  const TempFile file("name: fromfile\n");
  auto config = parse({"--config-file", file.path(), "--name", "a"}, {{"ETCD_NAME", "b"}});
  EXPECT_TRUE(config.has_value()) << config.status().to_string();
}

TEST(ServerConfigFile, EmptyFileGivesTheDefaults) {
  const TempFile file("");
  auto config = parse({"--config-file", file.path()});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "default");
  EXPECT_EQ(config->data_dir, "default.dengine");
}

TEST(ServerConfigFile, NullValueKeepsTheDefault) {
  const TempFile file("name:\nmax-txn-ops: 3\n");
  auto config = parse({"--config-file", file.path()});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(config->name, "default");
  EXPECT_EQ(config->max_txn_ops, 3u);
}

TEST(ServerConfigFile, UnknownKeyIsOnlyAWarningNamingItsLine) {
  const TempFile file("name: a\nwal-dir: /wal\n");
  auto config = parse({"--config-file", file.path()});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_TRUE(has(config->warnings[0], "\"wal-dir\""));
  EXPECT_TRUE(has(config->warnings[0], file.path() + ":2:1"));
}

// etcd only demands --advertise-client-urls for a moved listener on the command line.
TEST(ServerConfigFile, MovedClientListenerKeepsTheDefaultAdvertisedUrl) {
  const TempFile file("listen-client-urls: http://0.0.0.0:2379\n");
  auto config = parse({"--config-file", file.path()});
  ASSERT_TRUE(config.has_value()) << config.status().to_string();
  EXPECT_EQ(texts(config->advertise_client_urls),
            std::vector<std::string>{"http://127.0.0.1:2379"});
}

TEST(ServerConfigFile, UnreadableFileIsNamed) {
  auto config = parse({"--config-file", "/tmp/dengine-no-such-dir/missing.yaml"});
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.status().code(), StatusCode::kIoError);
  EXPECT_TRUE(has(config.status().message(), "/tmp/dengine-no-such-dir/missing.yaml"));
}

TEST(ServerConfigFile, DirectoryIsNotAConfigFile) {
  auto config = parse({"--config-file", "/tmp"});
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.status().message(), "cannot read config file /tmp: it is a directory");
}

TEST(ServerConfigFile, MalformedYamlNamesTheFileLineAndColumn) {
  const TempFile file("name: a\ndata-dir: [unclosed\n");
  const std::string error = error_of({"--config-file", file.path()});
  EXPECT_TRUE(has(error, file.path()));
  EXPECT_TRUE(has(error, "line 3"));
  EXPECT_TRUE(has(error, "column"));
}

TEST(ServerConfigFile, TopLevelListIsRejected) {
  const TempFile file("- name\n- a\n");
  EXPECT_TRUE(has(error_of({"--config-file", file.path()}), "expected a mapping"));
}

TEST(ServerConfigFile, ListValueIsRejectedAtItsPosition) {
  const TempFile file("listen-client-urls:\n  - http://127.0.0.1:2379\n");
  const std::string error = error_of({"--config-file", file.path()});
  EXPECT_TRUE(has(error, "listen-client-urls"));
  EXPECT_TRUE(has(error, file.path() + ":2:3"));
}

TEST(ServerConfigFile, BadValueNamesTheKeyAndPosition) {
  const TempFile file("name: a\nheartbeat-interval: fast\n");
  const std::string error = error_of({"--config-file", file.path()});
  EXPECT_TRUE(
      has(error, "invalid value \"fast\" for heartbeat-interval at " + file.path() + ":2:21"));
}

TEST(ServerConfigFile, FileValuesAreValidatedLikeFlags) {
  const TempFile file("heartbeat-interval: 300\n");
  EXPECT_TRUE(has(error_of({"--config-file", file.path()}),
                  "--election-timeout[1000ms] should be at least as 5 times as "
                  "--heartbeat-interval[300ms]"));
}

TEST(ServerConfigFile, BadFlagValueFailsEvenThoughTheFileWins) {
  const TempFile file("name: a\n");
  EXPECT_TRUE(has(error_of({"--config-file", file.path(), "--max-txn-ops=x"}), "--max-txn-ops"));
}

// ---- numbers -----------------------------------------------------------------------------------

TEST(ServerConfigNumbers, NonNumericValueNamesFlagAndValue) {
  EXPECT_EQ(error_of({"--heartbeat-interval=abc"}),
            "invalid value \"abc\" for --heartbeat-interval: not a decimal number");
}

TEST(ServerConfigNumbers, NegativeValueIsRefused) {
  EXPECT_EQ(error_of({"--snapshot-count", "-1"}),
            "invalid value \"-1\" for --snapshot-count: must not be negative");
}

TEST(ServerConfigNumbers, NegativeQuotaIsRefused) {
  EXPECT_TRUE(
      has(error_of({"--quota-backend-bytes=-1"}), "--quota-backend-bytes: must not be negative"));
}

TEST(ServerConfigNumbers, ValueBeyondSixtyFourBitsOverflows) {
  EXPECT_TRUE(has(error_of({"--max-request-bytes=18446744073709551616"}),
                  "invalid value \"18446744073709551616\" for --max-request-bytes: out of range"));
}

TEST(ServerConfigNumbers, QuotaBeyondInt64Overflows) {
  EXPECT_TRUE(has(error_of({"--quota-backend-bytes=9223372036854775808"}),
                  "--quota-backend-bytes: out of range"));
}

TEST(ServerConfigNumbers, HexAndSignsAreNotNumbers) {
  EXPECT_TRUE(has(error_of({"--max-txn-ops=0x10"}), "--max-txn-ops: not a decimal number"));
  EXPECT_TRUE(has(error_of({"--max-txn-ops=+5"}), "--max-txn-ops: not a decimal number"));
  EXPECT_TRUE(has(error_of({"--max-txn-ops="}), "--max-txn-ops: not a decimal number"));
}

TEST(ServerConfigNumbers, ZeroMaxTxnOpsIsRefused) {
  EXPECT_TRUE(has(error_of({"--max-txn-ops=0"}), "--max-txn-ops must be >0"));
}

TEST(ServerConfigNumbers, MaxTxnOpsAboveWhatTheCommandFormatCarriesIsRefused) {
  EXPECT_TRUE(has(error_of({"--max-txn-ops=129"}), "--max-txn-ops 129 is above 128"));
}

TEST(ServerConfigNumbers, ZeroMaxRequestBytesIsRefused) {
  EXPECT_TRUE(has(error_of({"--max-request-bytes=0"}), "--max-request-bytes must be >0"));
}

// ---- timing ------------------------------------------------------------------------------------

TEST(ServerConfigTiming, ElectionTimeoutBelowFiveHeartbeatsUsesEtcdsWords) {
  EXPECT_EQ(
      error_of({"--heartbeat-interval=100", "--election-timeout=499"}),
      "--election-timeout[499ms] should be at least as 5 times as --heartbeat-interval[100ms]");
}

TEST(ServerConfigTiming, ExactlyFiveHeartbeatsIsEnough) {
  EXPECT_TRUE(parse({"--heartbeat-interval=100", "--election-timeout=500"}).has_value());
}

TEST(ServerConfigTiming, ElectionTimeoutAboveFiftySecondsIsTooLong) {
  EXPECT_EQ(error_of({"--election-timeout=50001"}),
            "--election-timeout[50001ms] is too long, and should be set less than 50000ms");
}

TEST(ServerConfigTiming, ElectionTimeoutOfExactlyFiftySecondsIsAccepted) {
  EXPECT_TRUE(parse({"--election-timeout=50000"}).has_value());
}

TEST(ServerConfigTiming, ZeroHeartbeatIsRefused) {
  EXPECT_EQ(error_of({"--heartbeat-interval=0"}), "--heartbeat-interval must be >0 (set to 0ms)");
}

TEST(ServerConfigTiming, ZeroElectionTimeoutIsRefused) {
  EXPECT_EQ(error_of({"--election-timeout=0"}), "--election-timeout must be >0 (set to 0ms)");
}

TEST(ServerConfigTiming, HugeHeartbeatDoesNotOverflowTheRatioCheck) {
  EXPECT_TRUE(has(error_of({"--heartbeat-interval=18446744073709551615"}),
                  "should be at least as 5 times"));
}

// ---- URLs --------------------------------------------------------------------------------------

TEST(ServerConfigUrls, UrlSplitsIntoSchemeHostAndPort) {
  const Url parsed = url("https://node-1.example.com:2380");
  EXPECT_EQ(parsed.scheme, "https");
  EXPECT_EQ(parsed.host, "node-1.example.com");
  EXPECT_EQ(parsed.port, 2380);
  EXPECT_EQ(parsed.text, "https://node-1.example.com:2380");
}

TEST(ServerConfigUrls, Ipv6HostIsBracketed) {
  const Url parsed = url("http://[::1]:2379");
  EXPECT_EQ(parsed.host, "::1");
  EXPECT_EQ(parsed.port, 2379);
  EXPECT_EQ(parsed.text, "http://[::1]:2379");
}

TEST(ServerConfigUrls, SchemeIsLowerCasedAndSpacesTrimmed) {
  EXPECT_EQ(url(" HTTP://10.0.0.1:2380 ").text, "http://10.0.0.1:2380");
}

TEST(ServerConfigUrls, ListIsCommaSeparated) {
  auto urls = parse_url_list("http://a:1, http://b:2", "--x");
  ASSERT_TRUE(urls.has_value());
  EXPECT_EQ(texts(*urls), (std::vector<std::string>{"http://a:1", "http://b:2"}));
}

TEST(ServerConfigUrls, MalformedUrlsAreRefusedWithTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"127.0.0.1:2380", "must be http://host:port"},
      {"unix://sock:1", "only http and https"},
      {"ftp://a:1", "only http and https"},
      {"http://a:1/path", "must not contain a path"},
      {"http://a", "has no port"},
      {"http://a:65536", "invalid port"},
      {"http://a:80x", "invalid port"},
      {"http://a:", "invalid port"},
      {"http://:2380", "empty host"},
      {"http://::1:2380", "brackets"},
      {"http://[::g]:2380", "invalid IPv6"},
      {"http://user@a:1", "only scheme://host:port"},
      {"", "is empty"},
  };
  for (const auto& [text, reason] : cases) {
    auto parsed = parse_url(text, "--listen-peer-urls");
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_TRUE(has(parsed.status().message(), reason)) << text;
    EXPECT_TRUE(has(parsed.status().message(), "--listen-peer-urls")) << text;
  }
}

TEST(ServerConfigUrls, BadFlagUrlNamesTheFlagAndTheUrl) {
  EXPECT_EQ(error_of({"--listen-peer-urls=http://127.0.0.1:2380,http://127.0.0.1"}),
            "invalid value \"http://127.0.0.1:2380,http://127.0.0.1\" for --listen-peer-urls: "
            "URL \"http://127.0.0.1\" has no port; the form is scheme://host:port");
}

TEST(ServerConfigUrls, EmptyElementInAListIsRefused) {
  EXPECT_TRUE(has(error_of({"--initial-advertise-peer-urls=http://a:1,,http://b:2"}),
                  "--initial-advertise-peer-urls: URL \"\" is empty"));
}

TEST(ServerConfigUrls, ListenerMustBindAnIpOrLocalhost) {
  EXPECT_EQ(error_of({"--listen-client-urls=http://example.com:2379",
                      "--advertise-client-urls=http://example.com:2379"}),
            "--listen-client-urls: expected IP in URL for binding (http://example.com:2379)");
}

TEST(ServerConfigUrls, ListenerMayUseLocalhostOrAnyAddress) {
  auto config =
      parse({"--listen-client-urls=http://localhost:2379,http://0.0.0.0:2381,http://[::]:2382",
             "--advertise-client-urls=http://db.example.com:2379"});
  EXPECT_TRUE(config.has_value()) << config.status().to_string();
}

TEST(ServerConfigUrls, MovedClientListenerNeedsAnAdvertisedUrl) {
  EXPECT_EQ(error_of({"--listen-client-urls=http://0.0.0.0:2379"}),
            "--advertise-client-urls is required when --listen-client-urls is set explicitly");
}

// ---- initial cluster ---------------------------------------------------------------------------

TEST(ServerConfigInitialCluster, RepeatedNameCollectsItsUrls) {
  auto members = parse_initial_cluster("a=http://h1:2380,b=http://h2:2380,a=http://h3:2380");
  ASSERT_TRUE(members.has_value()) << members.status().to_string();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].name, "a");
  EXPECT_EQ(texts((*members)[0].peer_urls),
            (std::vector<std::string>{"http://h1:2380", "http://h3:2380"}));
  EXPECT_EQ((*members)[1].name, "b");
  EXPECT_EQ(format_initial_cluster(*members), "a=http://h1:2380,a=http://h3:2380,b=http://h2:2380");
}

TEST(ServerConfigInitialCluster, EmptyEntriesAreSkipped) {
  auto members = parse_initial_cluster("a=http://h1:2380,,");
  ASSERT_TRUE(members.has_value());
  EXPECT_EQ(members->size(), 1u);
}

TEST(ServerConfigInitialCluster, EntryWithoutEqualsIsRefused) {
  EXPECT_EQ(error_of({"--initial-cluster=default"}),
            "invalid value \"default\" for --initial-cluster: entry \"default\" is not name=url");
}

TEST(ServerConfigInitialCluster, EntryWithEmptyNameIsRefused) {
  EXPECT_TRUE(has(error_of({"--initial-cluster==http://127.0.0.1:2380"}), "has an empty name"));
}

TEST(ServerConfigInitialCluster, EntryWithBadUrlNamesTheEntry) {
  EXPECT_TRUE(has(error_of({"--initial-cluster=default=localhost:2380"}),
                  "--initial-cluster: entry \"default=localhost:2380\": URL \"localhost:2380\""));
}

TEST(ServerConfigInitialCluster, EmptyInitialClusterIsRefused) {
  EXPECT_TRUE(has(error_of({"--initial-cluster="}), "--initial-cluster: lists no members"));
}

TEST(ServerConfigInitialCluster, LocalNameMustBeInTheCluster) {
  EXPECT_EQ(error_of({"--name", "infra9", "--initial-cluster", "infra0=http://127.0.0.1:2380"}),
            "couldn't find local name \"infra9\" in the initial cluster configuration");
}

TEST(ServerConfigInitialCluster, LocalNameMustBeInTheClusterWhenJoiningToo) {
  EXPECT_TRUE(has(error_of({"--name=infra9", "--initial-cluster-state=existing",
                            "--initial-cluster=infra0=http://127.0.0.1:2380"}),
                  "couldn't find local name \"infra9\""));
}

TEST(ServerConfigInitialCluster, NewClusterMustListThisMemberAtItsAdvertisedUrls) {
  const std::string error = error_of({"--initial-cluster=default=http://10.0.0.1:2380"});
  EXPECT_TRUE(has(error, "--initial-cluster has default=http://10.0.0.1:2380"));
  EXPECT_TRUE(has(error, "--initial-advertise-peer-urls is http://127.0.0.1:2380"));
}

TEST(ServerConfigInitialCluster, JoiningMemberMayDifferFromItsInitialClusterEntry) {
  auto config =
      parse({"--initial-cluster-state=existing", "--initial-cluster=default=http://10.0.0.1:2380"});
  EXPECT_TRUE(config.has_value()) << config.status().to_string();
}

TEST(ServerConfigInitialCluster, SeveralAdvertisedUrlsMatchInAnyOrder) {
  auto config =
      parse({"--initial-advertise-peer-urls=http://10.0.0.2:2380,http://10.0.0.1:2380",
             "--initial-cluster=default=http://10.0.0.1:2380,default=http://10.0.0.2:2380"});
  EXPECT_TRUE(config.has_value()) << config.status().to_string();
}

TEST(ServerConfigInitialCluster, UrlSharedByTwoMembersIsRefused) {
  EXPECT_TRUE(has(error_of({"--initial-cluster=default=http://127.0.0.1:2380,"
                            "other=http://127.0.0.1:2380"}),
                  "--initial-cluster has duplicate url http://127.0.0.1:2380"));
}

// ---- enumerations and names --------------------------------------------------------------------

TEST(ServerConfigChoices, ClusterStateMustBeNewOrExisting) {
  EXPECT_EQ(error_of({"--initial-cluster-state=old"}),
            "invalid value \"old\" for --initial-cluster-state: must be \"new\" or \"existing\"");
}

TEST(ServerConfigChoices, UnknownLogLevelIsRefused) {
  EXPECT_TRUE(has(error_of({"--log-level=verbose"}),
                  "invalid value \"verbose\" for --log-level: unknown log level"));
}

TEST(ServerConfigChoices, EveryEtcdLogLevelIsAccepted) {
  for (const std::string level : {"debug", "info", "warn", "error", "dpanic", "panic", "fatal"}) {
    EXPECT_TRUE(parse({"--log-level=" + level}).has_value()) << level;
  }
}

TEST(ServerConfigChoices, EmptyNameIsRefused) {
  EXPECT_EQ(error_of({"--name="}), "--name must not be empty");
}

}  // namespace
}  // namespace dengine::cluster::test
