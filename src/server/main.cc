// dengine-server: a single dengine member speaking etcd's v3 API on the wire. Flags, ETCD_*
// variables and --config-file as etcd 3.4.23's; with none it serves 127.0.0.1:2379 from
// ./default.dengine. Bad configuration exits non-zero before anything is written; SIGTERM and
// SIGINT stop it gracefully.

#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "dengine/cluster_member.h"
#include "dengine/member_config.h"

extern char** environ;

namespace {

constexpr const char* kVersionText =
    "dengine-server 0.1.0\n"
    "etcd API version: 3.4.23 (wire-compatible)\n";

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const size_t equals = text.find('=');
    if (equals != std::string::npos) env.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return env;
}

// Every thread the server starts inherits this mask, so the signals reach sigwait() below and
// never interrupt a worker.
sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

int main(int argc, char** argv) {
  using dengine::ClusterMember;
  const std::vector<std::string> args(argv + 1, argv + argc);
  dengine::Result<dengine::MemberConfig> config =
      dengine::parse_member_config(args, process_environment());
  if (!config) {
    std::fprintf(stderr, "dengine-server: %s\n", config.status().message().c_str());
    return 2;
  }
  if (config->action == dengine::ConfigAction::kHelp) {
    std::fputs(dengine::member_config_usage().c_str(), stdout);
    return 0;
  }
  if (config->action == dengine::ConfigAction::kVersion) {
    std::fputs(kVersionText, stdout);
    return 0;
  }
  dengine::log_member_to_stderr(config->log_level, "dengine-server");
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);

  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A removed member stops as if asked to (etcd exits once removed).
  dengine::Result<std::unique_ptr<ClusterMember>> member = ClusterMember::start(
      *config, dengine::ClusterMemberOptions{.serve_client_api = true,
                                             .on_removed = [] { kill(getpid(), SIGTERM); }});
  if (!member) {
    spdlog::error("{}", member.status().message());
    // A configuration the flags' parser could not judge alone (the initial cluster's ids).
    return member.status().code() == dengine::StatusCode::kInvalidArgument ? 2 : 1;
  }

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{}, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  if (dengine::Status stopped = (*member)->stop(); !stopped) {
    spdlog::error("stop: {}", stopped.message());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
