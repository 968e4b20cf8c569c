// dengine-server's command line as a process: bad configuration exits non-zero with a message
// naming the problem before anything is written; --help and --version exit 0.

#include <filesystem>
#include <string>

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

}  // namespace
}  // namespace dengine::test
