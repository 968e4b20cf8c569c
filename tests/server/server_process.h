#pragma once

// Real dengine-server processes and etcdctl runs for the end-to-end tests: everything on
// 127.0.0.1 with ports the system picks, every process stopped by its owner.

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace dengine::test {

// A port on 127.0.0.1 that nothing listens on right now (bound once, then released).
int free_local_port();

// Connects to 127.0.0.1:`port`, writes `bytes` and hangs up; whether that all worked.
bool send_raw_bytes(int port, const std::string& bytes);

struct CommandResult {
  int exit_code = -1;  // the process's exit status, or -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs `argv` to completion with `input` on its stdin; kills it after `timeout`, or as soon as
// its stdout contains `until` when that is not empty (for commands that never end by
// themselves, such as a watch). A killed command's exit_code is -1.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::string& until = "");

// One member of a cluster on 127.0.0.1: its name, ports and the cluster's --initial-cluster.
struct MemberFlags {
  std::string name;
  int client_port = 0;
  int peer_port = 0;
  std::string initial_cluster;
  std::string initial_cluster_token = "etcd-cluster";
  // The program: dengine-server, or another that takes etcd's member flags (embedded-node).
  std::string binary = DENGINE_SERVER_PATH;
};

// `size` members on fresh ports, named m1, m2, ...
std::vector<MemberFlags> plan_cluster(size_t size, const std::string& token = "etcd-cluster");

class ServerProcess {
 public:
  // A member of a planned cluster. It cannot answer before a quorum runs, so this does not
  // wait: call wait_healthy() once every member was started.
  ServerProcess(const MemberFlags& member, std::string data_dir,
                std::vector<std::string> extra = {});
  // Starts dengine-server (DENGINE_SERVER_PATH) on fresh ports with `data_dir`, plus `extra`
  // arguments, and waits until it answers etcdctl. Check started() and log().
  ServerProcess(std::string data_dir, std::vector<std::string> extra = {})
      : ServerProcess(DENGINE_SERVER_PATH, std::move(data_dir), std::move(extra)) {}
  // Another etcd-compatible server binary with the same flags (Debian's etcd, for the
  // differential test).
  ServerProcess(std::string binary, std::string data_dir, std::vector<std::string> extra);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] bool started() const { return started_; }
  // Waits until etcdctl endpoint health succeeds (or the process exits, or `timeout` passes).
  bool wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  // What the server wrote to stderr so far.
  [[nodiscard]] std::string log() const;

  // etcdctl (API 3) against this server; `args` after the global flags.
  CommandResult etcdctl(const std::vector<std::string>& args, const std::string& input = "") const;
  // etcdctl that does not end by itself (watch): stopped once stdout holds `until`, or after
  // `timeout`.
  CommandResult etcdctl_until(const std::vector<std::string>& args, const std::string& until,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  // SIGTERM, then the exit status (-1 if it did not exit within the deadline and was killed).
  int terminate();
  // Waits for the server to exit by itself: its exit status, -1 when signalled, -2 when it is
  // still running after `timeout`.
  int wait_for_exit(std::chrono::milliseconds timeout);
  void kill_hard();

 private:
  void launch(std::vector<std::string> argv);

  std::string data_dir_;
  std::string endpoint_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool started_ = false;
};

}  // namespace dengine::test
