// dengine-server: a single dengine member speaking etcd's v3 API on the wire. Flags, ETCD_*
// variables and --config-file as etcd 3.4.23's; with none it serves 127.0.0.1:2379 from
// ./default.dengine. Bad configuration exits non-zero before anything is written; SIGTERM and
// SIGINT stop it gracefully.

#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include "server/etcd_server.h"
#include "server/member_identity.h"
#include "server/server_config.h"
#include "server/server_ids_file.h"
#include "server/server_log.h"

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
  using namespace dengine::server;
  const std::vector<std::string> args(argv + 1, argv + argc);
  dengine::Result<ServerConfig> config = parse_server_config(args, process_environment());
  if (!config) {
    std::fprintf(stderr, "dengine-server: %s\n", config.status().message().c_str());
    return 2;
  }
  if (config->action == ServerAction::kHelp) {
    std::fputs(server_usage().c_str(), stdout);
    return 0;
  }
  if (config->action == ServerAction::kVersion) {
    std::fputs(kVersionText, stdout);
    return 0;
  }
  configure_logging(config->log_level);
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);
  // An existing data dir overrides the bootstrap flags, as in etcd: they are not even checked
  // (a member restarted at peer URLs moved by `member update` no longer matches them).
  dengine::Result<std::optional<ServerIds>> stored = read_server_ids(config->data_dir);
  if (!stored) {
    spdlog::error("{}", stored.status().message());
    return 1;
  }
  ServerIds ids;
  if (*stored) {
    ids = **stored;
  } else {
    dengine::Result<ClusterIdentity> identity = derive_identity(*config);
    if (!identity) {
      spdlog::error("{}", identity.status().message());
      return 2;
    }
    ids = bootstrap_ids(*identity);
  }

  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A removed member stops as if asked to (etcd exits once removed).
  dengine::Result<std::unique_ptr<EtcdServer>> server =
      EtcdServer::start(*config, ids, [] { kill(getpid(), SIGTERM); });
  if (!server) {
    spdlog::error("{}", server.status().message());
    return 1;
  }

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{}, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
  if (dengine::Status stopped = (*server)->stop(); !stopped) {
    spdlog::error("stop: {}", stopped.message());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
