// dengine-server's command line as a process: bad configuration exits non-zero with a message
// naming the problem before anything is written; --help and --version exit 0.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

CommandResult run_server(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {DENGINE_SERVER_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, "", std::chrono::seconds(20));
}

void expect_refused(const std::vector<std::string>& args, const std::string& expected) {
  const CommandResult result = run_server(args);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
}

TEST(ServerCli, BadConfigurationExitsNonZeroAndWritesNothing) {
  const std::string data_dir = fresh_test_dir() + "/never";
  const std::string data_flag = "--data-dir=" + data_dir;
  expect_refused({data_flag, "--bogus"}, "unknown flag: --bogus");
  expect_refused({data_flag, "--heartbeat-interval=500"}, "--election-timeout");
  expect_refused({data_flag, "--initial-cluster-state=maybe"}, "--initial-cluster-state");
  expect_refused({data_flag, "--listen-client-urls=ftp://127.0.0.1:1",
                  "--advertise-client-urls=ftp://127.0.0.1:1"},
                 "--listen-client-urls");
  expect_refused({data_flag, "--config-file=" + data_dir + ".yaml"}, ".yaml");
  EXPECT_FALSE(std::filesystem::exists(data_dir)) << "a refused start wrote its data dir";
}

TEST(ServerCli, TlsPeerUrlsAreRefusedBeforeAnythingIsWritten) {
  const std::string data_dir = fresh_test_dir() + "/never";
  const CommandResult result =
      run_server({"--data-dir=" + data_dir, "--listen-peer-urls=https://127.0.0.1:1",
                  "--initial-advertise-peer-urls=https://127.0.0.1:1",
                  "--initial-cluster=default=https://127.0.0.1:1,b=https://127.0.0.1:2"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("--listen-peer-urls https://127.0.0.1:1"), std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(data_dir));
}

TEST(ServerCli, JoiningARunningClusterIsRefusedRatherThanStartingASecondOne) {
  const std::string data_dir = fresh_test_dir() + "/never";
  const CommandResult result =
      run_server({"--data-dir=" + data_dir, "--initial-cluster-state=existing"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("--initial-cluster-state existing"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(data_dir));
}

TEST(ServerCli, TheLogLevelDecidesWhatTheServerReports) {
  ServerProcess chatty(fresh_test_dir() + "/info");
  ASSERT_TRUE(chatty.started()) << chatty.log();
  ServerProcess quiet(fresh_test_dir() + "/warn", {"--log-level=warn"});
  ASSERT_TRUE(quiet.started()) << quiet.log();
  EXPECT_EQ(chatty.terminate(), 0);
  EXPECT_EQ(quiet.terminate(), 0);
  EXPECT_NE(chatty.log().find(" I | dengine-server: member "), std::string::npos) << chatty.log();
  EXPECT_NE(chatty.log().find("leads (this member)"), std::string::npos) << chatty.log();
  EXPECT_NE(chatty.log().find("SIGTERM, stopping"), std::string::npos) << chatty.log();
  EXPECT_EQ(quiet.log().find(" I | "), std::string::npos) << quiet.log();
}

TEST(ServerCli, HelpAndVersionExitZero) {
  const CommandResult help = run_server({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--listen-client-urls"), std::string::npos);
  const CommandResult version = run_server({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("3.4.23"), std::string::npos);
}

// Cluster A (one member) runs. A member of another cluster cannot start among its members:
// neither flags that would bootstrap a new cluster there (another token), nor the data dir of
// another cluster started with A's members in --initial-cluster. Each is refused at start with
// both clusters named, and the first writes no data dir.
TEST(ServerCli, AMemberOfAnotherClusterIsRefusedAtStartNamingBoth) {
  const std::vector<MemberFlags> cluster_a = plan_cluster(1, "token-a");
  ServerProcess running(cluster_a[0], fresh_test_dir() + "/a");
  ASSERT_TRUE(running.wait_healthy()) << running.log();
  const std::string a_peer = "http://127.0.0.1:" + std::to_string(cluster_a[0].peer_port);
  const CommandResult a_status = running.etcdctl({"endpoint", "status", "-w", "fields"});
  ASSERT_EQ(a_status.exit_code, 0) << a_status.err;

  MemberFlags intruder{.name = "x",
                       .client_port = free_local_port(),
                       .peer_port = free_local_port(),
                       .initial_cluster = {},
                       .initial_cluster_token = "token-b"};
  const std::string x_peer = "http://127.0.0.1:" + std::to_string(intruder.peer_port);
  intruder.initial_cluster = "m1=" + a_peer + ",x=" + x_peer;
  const std::string fresh = fresh_test_dir() + "/x";
  {
    ServerProcess refused(intruder, fresh);
    EXPECT_EQ(refused.wait_for_exit(std::chrono::seconds(20)), 1) << refused.log();
    EXPECT_NE(refused.log().find("was started among the members of cluster"), std::string::npos)
        << refused.log();
    EXPECT_NE(refused.log().find("the peer at " + a_peer + " is a member of cluster"),
              std::string::npos)
        << refused.log();
    EXPECT_NE(refused.log().find("--initial-cluster-token \"token-b\""), std::string::npos)
        << refused.log();
  }
  EXPECT_FALSE(std::filesystem::exists(fresh)) << "a refused start wrote its data dir";

  // Cluster B's data dir, from a member that ran alone, restarted with A's member named.
  const std::string b_dir = fresh_test_dir() + "/b";
  {
    ServerProcess b(b_dir);
    ASSERT_TRUE(b.started()) << b.log();
    EXPECT_EQ(b.terminate(), 0);
  }
  MemberFlags b_among_a = intruder;
  b_among_a.name = "default";
  b_among_a.initial_cluster = "m1=" + a_peer + ",default=" + x_peer;
  ServerProcess refused(b_among_a, b_dir);
  EXPECT_EQ(refused.wait_for_exit(std::chrono::seconds(20)), 1) << refused.log();
  EXPECT_NE(refused.log().find("(from the data dir " + b_dir + ")"), std::string::npos)
      << refused.log();
  EXPECT_NE(refused.log().find("the peer at " + a_peer + " is a member of cluster"),
            std::string::npos)
      << refused.log();
  // Cluster A serves on.
  EXPECT_EQ(running.etcdctl({"put", "still", "serving"}).exit_code, 0);
}

}  // namespace
}  // namespace dengine::test
