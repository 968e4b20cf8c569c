// embedded-node: a tiny C++ service that is one member of a dengine cluster over the network,
// built only on the public headers and dengine::cluster. It takes etcd's member flags (and
// ETCD_* variables, and --config-file), forms or joins the cluster, serves etcd's v3 client
// API on --listen-client-urls (so etcdctl and etcd's clients reach the cluster), says whenever
// the leader changes, and stops gracefully on SIGTERM or SIGINT.
//
//   embedded-node --name a --data-dir ./a
//     --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls
//     http://127.0.0.1:12380
//     --listen-client-urls http://127.0.0.1:12379 --advertise-client-urls http://127.0.0.1:12379
//     --initial-cluster a=http://127.0.0.1:12380,b=http://127.0.0.1:22380,c=http://127.0.0.1:32380
//   (one command line)

#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include "dengine/cluster_member.h"
#include "dengine/member_config.h"

extern char** environ;

namespace {

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const size_t equals = text.find('=');
    if (equals != std::string::npos) env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

// What the service itself does with the engine: here, report each leader it sees. Ends when
// the engine stops.
void report_leaders(dengine::ClusterMember& member) {
  dengine::MembershipWatch changes = member.watch_membership();
  dengine::NodeId last_leader = dengine::kNoNode;
  while (true) {
    dengine::Result<dengine::MembershipEvent> event = changes.next(std::chrono::seconds(1));
    if (!event && event.status().code() != dengine::StatusCode::kTimedOut) return;
    if (!event || event->leader == last_leader || event->leader == dengine::kNoNode) continue;
    last_leader = event->leader;
    std::printf("embedded-node: leader is %llx%s\n", static_cast<unsigned long long>(last_leader),
                last_leader == member.id() ? " (this process)" : "");
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  dengine::Result<dengine::MemberConfig> config =
      dengine::parse_member_config(args, process_environment());
  if (!config) {
    std::fprintf(stderr, "embedded-node: %s\n", config.status().message().c_str());
    return 2;
  }
  if (config->action == dengine::ConfigAction::kHelp) {
    std::fputs(dengine::member_config_usage().c_str(), stdout);
    return 0;
  }
  if (config->action == dengine::ConfigAction::kVersion) {
    std::puts("embedded-node (dengine 0.1.0)");
    return 0;
  }
  dengine::log_member_to_stderr(config->log_level, "embedded-node");

  // Every thread started from here on inherits the mask, so the signals reach sigwait().
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  dengine::Result<std::unique_ptr<dengine::ClusterMember>> member = dengine::ClusterMember::start(
      *config, dengine::ClusterMemberOptions{.serve_client_api = true,
                                             .on_removed = [] { kill(getpid(), SIGTERM); }});
  if (!member) {
    std::fprintf(stderr, "embedded-node: %s\n", member.status().message().c_str());
    return member.status().code() == dengine::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::thread reporter([&] { report_leaders(**member); });

  int received = 0;
  sigwait(&signals, &received);
  const dengine::Status stopped = (*member)->stop();
  reporter.join();
  if (!stopped) {
    std::fprintf(stderr, "embedded-node: stop: %s\n", stopped.message().c_str());
    return 1;
  }
  return 0;
}
