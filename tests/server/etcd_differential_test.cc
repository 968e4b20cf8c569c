// The differential test (docs/architecture.md §8): one etcdctl script run against Debian's
// etcd 3.4.23 and against dengine-server, each on a fresh data dir, and the outputs compared after
// removing what legitimately differs (member, cluster and lease ids, Raft terms, timings).

#include <algorithm>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

constexpr const char* kEtcdBinary = "/usr/bin/etcd";  // Debian's etcd-server

struct Step {
  std::vector<std::string> args;
  std::string input;
  std::string until;  // for a watch: stop once stdout holds this
};

std::string normalized(const CommandResult& result) {
  std::string text = "exit " + std::to_string(result.exit_code) + "\n" + result.out + "--\n";
  // etcdctl's own retry warnings carry timestamps and client ids.
  for (const std::string& line : {result.err}) {
    std::string kept;
    size_t start = 0;
    while (start < line.size()) {
      size_t end = line.find('\n', start);
      if (end == std::string::npos) end = line.size();
      const std::string one = line.substr(start, end - start);
      if (one.rfind("{\"level\"", 0) != 0) kept += one + "\n";
      start = end + 1;
    }
    text += kept;
  }
  static const std::vector<std::pair<std::regex, std::string>> rules = {
      {std::regex("\"(ClusterID|MemberID|RaftTerm)\" : \\d+"), "\"$1\" : <n>"},
      {std::regex("[0-9a-f]{16}"), "<id>"},
      {std::regex("remaining\\(\\d+s\\)"), "remaining(<n>s)"},
  };
  for (const auto& [pattern, replacement] : rules) {
    text = std::regex_replace(text, pattern, replacement);
  }
  // etcd lists a lease's keys in Go map order, which varies from run to run: compare them
  // sorted (dengine lists them sorted already).
  static const std::regex attached("attached keys\\(\\[([^\\]]*)\\]\\)");
  std::smatch keys;
  if (std::regex_search(text, keys, attached)) {
    std::istringstream words(keys[1].str());
    std::vector<std::string> sorted{std::istream_iterator<std::string>(words), {}};
    std::sort(sorted.begin(), sorted.end());
    std::string joined;
    for (const std::string& key : sorted) joined += (joined.empty() ? "" : " ") + key;
    text = keys.prefix().str() + "attached keys([" + joined + "])" + keys.suffix().str();
  }
  return text;
}

TEST(EtcdDifferential, EtcdctlSeesTheSameAnswersFromEtcdAndFromDengine) {
  const std::string root = fresh_test_dir();
  ServerProcess etcd(kEtcdBinary, root + "/etcd", {"--name=default"});
  ASSERT_TRUE(etcd.started()) << "Debian's etcd did not start:\n" << etcd.log();
  ServerProcess dengine(root + "/dengine");
  ASSERT_TRUE(dengine.started()) << dengine.log();

  const std::string txn_input =
      "mod(\"a\") > \"0\"\nvalue(\"b\") = \"2\"\n\nput c 30\nget a\ndel b\n\nget b\n\n";
  const std::vector<Step> script = {
      {{"put", "a", "1"}, "", ""},
      {{"put", "b", "2"}, "", ""},
      {{"put", "a", "3", "--prev-kv"}, "", ""},
      {{"get", "a", "-w", "fields"}, "", ""},
      {{"get", "", "--from-key"}, "", ""},
      {{"get", "a", "--rev=2"}, "", ""},
      {{"get", "a", "c"}, "", ""},
      {{"get", "", "--prefix", "--sort-by=VALUE", "--order=DESCEND"}, "", ""},
      {{"get", "", "--prefix", "--sort-by=CREATE", "--order=ASCEND", "--keys-only"}, "", ""},
      {{"get", "", "--prefix", "--limit=1", "-w", "fields"}, "", ""},
      {{"get", "a", "--print-value-only"}, "", ""},
      {{"txn", "-i"}, txn_input, ""},
      {{"txn", "-i", "-w", "fields"}, txn_input, ""},
      {{"put", "b", "4", "--ignore-lease"}, "", ""},
      {{"put", "a", "--ignore-value"}, "", ""},
      {{"get", "a", "-w", "fields"}, "", ""},
      {{"del", "a", "--prev-kv"}, "", ""},
      {{"del", "nothing"}, "", ""},
      {{"del", "", "--from-key"}, "", ""},
      {{"put", "", "x"}, "", ""},
      {{"put", "k", "v", "--lease=1234"}, "", ""},
      {{"watch", "", "--prefix", "--rev=2", "--prev-kv"}, "", "DELETE\nc\n30\nc\n\n"},
      {{"compact", "5"}, "", ""},
      {{"get", "a", "--rev=3"}, "", ""},
      {{"get", "a", "--rev=5"}, "", ""},
      {{"get", "a", "--rev=100"}, "", ""},
      {{"lease", "timetolive", "1234"}, "", ""},
      {{"lease", "keep-alive", "--once", "1234"}, "", ""},
      {{"lease", "revoke", "1234"}, "", ""},
      {{"lease", "list"}, "", ""},
      // "{lease}": the id the server granted last (each server chooses its own).
      {{"lease", "grant", "100"}, "", ""},
      {{"put", "leased/1", "x", "--lease={lease}"}, "", ""},
      {{"put", "leased/2", "y", "--lease={lease}"}, "", ""},
      {{"lease", "timetolive", "{lease}", "--keys"}, "", ""},
      {{"lease", "list"}, "", ""},
      {{"lease", "keep-alive", "--once", "{lease}"}, "", ""},
      {{"lease", "revoke", "{lease}"}, "", ""},
      {{"get", "leased/", "--prefix"}, "", ""},
      {{"lease", "timetolive", "{lease}"}, "", ""},
      {{"lease", "grant", "1"}, "", ""},  // raised to the minimum TTL
  };
  int differences = 0;
  std::string etcd_lease;
  std::string dengine_lease;
  for (const Step& step : script) {
    const auto run = [&](const ServerProcess& server, std::string& lease) {
      std::vector<std::string> args = step.args;
      for (std::string& arg : args) {
        if (const size_t at = arg.find("{lease}"); at != std::string::npos) {
          arg.replace(at, 7, lease);
        }
      }
      CommandResult result = step.until.empty()
                                 ? server.etcdctl(args, step.input)
                                 : server.etcdctl_until(args, step.until, std::chrono::seconds(30));
      std::smatch granted;
      if (std::regex_search(result.out, granted, std::regex("lease ([0-9a-f]{16}) granted"))) {
        lease = granted[1];
      }
      return normalized(result);
    };
    const std::string from_etcd = run(etcd, etcd_lease);
    const std::string from_dengine = run(dengine, dengine_lease);
    std::string command = "etcdctl";
    for (const std::string& arg : step.args) command += " " + arg;
    EXPECT_EQ(from_dengine, from_etcd) << "after: " << command;
    if (from_dengine != from_etcd) ++differences;
  }
  EXPECT_EQ(differences, 0);
}

}  // namespace
}  // namespace dengine::test
