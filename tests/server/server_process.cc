#include "tests/server/server_process.h"

#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

constexpr auto kStartPatience = std::chrono::seconds(30);

// Waits for `pid` up to `timeout`; its exit code, or -1 if it was signalled or is still running.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0 || std::chrono::steady_clock::now() > give_up) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& arg : argv) out.push_back(const_cast<char*>(arg.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout, const std::string& until) {
  std::array<int, 2> in{}, out{}, err{};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0) {
    return {.exit_code = -1, .out = "", .err = "pipe failed"};
  }
  std::vector<char*> args = c_argv(argv);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  (void)::write(in[1], input.data(), input.size());
  ::close(in[1]);

  CommandResult result;
  std::array<pollfd, 2> fds{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  int open_pipes = 2;
  const auto done_early = [&] {
    return !until.empty() && result.out.find(until) != std::string::npos;
  };
  while (open_pipes > 0 && std::chrono::steady_clock::now() < give_up && !done_early()) {
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      std::array<char, 4096> buffer{};
      const ssize_t got = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (got > 0) {
        sinks[i]->append(buffer.data(), static_cast<size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (open_pipes > 0) ::kill(pid, SIGKILL);
  const int code = wait_exit(pid, std::chrono::seconds(5));
  result.exit_code = code < 0 ? -1 : code;
  return result;
}

bool send_raw_bytes(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool sent = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                    ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  return sent;
}

std::vector<MemberFlags> plan_cluster(size_t size, const std::string& token) {
  std::vector<MemberFlags> members(size);
  std::string initial_cluster;
  for (size_t i = 0; i < size; ++i) {
    members[i].name = "m" + std::to_string(i + 1);
    members[i].client_port = free_local_port();
    members[i].peer_port = free_local_port();
    members[i].initial_cluster_token = token;
    initial_cluster += (i == 0 ? "" : ",") + members[i].name +
                       "=http://127.0.0.1:" + std::to_string(members[i].peer_port);
  }
  for (MemberFlags& member : members) member.initial_cluster = initial_cluster;
  return members;
}

ServerProcess::ServerProcess(std::string binary, std::string data_dir,
                             std::vector<std::string> extra)
    : data_dir_(std::move(data_dir)) {
  const int client_port = free_local_port();
  const int peer_port = free_local_port();
  endpoint_ = "127.0.0.1:" + std::to_string(client_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
  std::vector<std::string> argv = {std::move(binary),
                                   "--data-dir=" + data_dir_,
                                   "--listen-client-urls=http://" + endpoint_,
                                   "--advertise-client-urls=http://" + endpoint_,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=default=" + peer_url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  launch(std::move(argv));
  wait_healthy(kStartPatience);
}

ServerProcess::ServerProcess(const MemberFlags& member, std::string data_dir,
                             std::vector<std::string> extra)
    : data_dir_(std::move(data_dir)) {
  endpoint_ = "127.0.0.1:" + std::to_string(member.client_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(member.peer_port);
  std::vector<std::string> argv = {member.binary,
                                   "--name=" + member.name,
                                   "--data-dir=" + data_dir_,
                                   "--listen-client-urls=http://" + endpoint_,
                                   "--advertise-client-urls=http://" + endpoint_,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=" + member.initial_cluster,
                                   "--initial-cluster-token=" + member.initial_cluster_token};
  argv.insert(argv.end(), extra.begin(), extra.end());
  launch(std::move(argv));
}

void ServerProcess::launch(std::vector<std::string> argv) {
  log_path_ = fresh_test_dir() + "/server.log";
  std::vector<char*> args = c_argv(argv);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

bool ServerProcess::wait_healthy(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < give_up) {
    if (wait_exit(pid_, std::chrono::milliseconds(0)) != -2) {
      pid_ = -1;  // exited: it will not serve
      return false;
    }
    if (etcdctl({"endpoint", "health"}).exit_code == 0) {
      started_ = true;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return started_;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) (void)terminate();
}

CommandResult ServerProcess::etcdctl_until(const std::vector<std::string>& args,
                                           const std::string& until,
                                           std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {"etcdctl", "--endpoints=" + endpoint_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, "", timeout, until);
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

CommandResult ServerProcess::etcdctl(const std::vector<std::string>& args,
                                     const std::string& input) const {
  std::vector<std::string> argv = {"etcdctl", "--endpoints=" + endpoint_, "--command-timeout=10s"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, input);
}

int ServerProcess::terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = wait_exit(pid_, std::chrono::seconds(20));
  if (code == -2) {
    ::kill(pid_, SIGKILL);
    (void)wait_exit(pid_, std::chrono::seconds(5));
    code = -1;
  }
  pid_ = -1;
  return code;
}

int ServerProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const int code = wait_exit(pid_, timeout);
  if (code != -2) pid_ = -1;
  return code;
}

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)wait_exit(pid_, std::chrono::seconds(5));
  pid_ = -1;
}

}  // namespace dengine::test
