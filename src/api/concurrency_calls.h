#pragma once

// What etcd's two concurrency services (v3lock, v3election) share: calls that wait, and errors
// as etcd reports them.
//
// A Lock or a Campaign waits for its turn and an Observe for the next leader, for as long as
// it takes. The recipes (dengine/lock.h, dengine/election.h) wait by blocking until an answer
// or a std::stop_token, so each such call runs on a worker thread of its own, never on one of
// gRPC's few callback threads; the call's cancellation and the server's stop both request that
// token. The workers are bounded (WaitingCalls' max_calls): past it a call is refused.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include "dengine/status.h"

namespace dengine::api {

// The worker threads of the calls that wait, shared by both services.
class WaitingCalls {
 public:
  // etcd has no such bound (a goroutine per call), but a thread costs more.
  static constexpr size_t kDefaultMaxCalls = 1024;

  explicit WaitingCalls(size_t max_calls = kDefaultMaxCalls) : max_calls_(max_calls) {}
  // Asks the workers still running to stop and joins them all: after the gRPC server's
  // Shutdown, when every call has finished and the workers are at most returning.
  ~WaitingCalls();
  WaitingCalls(const WaitingCalls&) = delete;
  WaitingCalls& operator=(const WaitingCalls&) = delete;

  // Runs `work` with `stop`'s token on a thread of its own. kResourceExhausted while max_calls
  // are running, kUnavailable after stop().
  Status run(std::stop_source stop, std::function<void(std::stop_token)> work);
  // Asks every running call to stop, and refuses calls from now on. Does not wait: the calls
  // finish through gRPC, whose Shutdown waits for them.
  void stop();

 private:
  struct Worker {
    std::thread thread;
    std::stop_source stop;
  };
  // A worker's last act: it leaves its thread to be joined by the next worker that retires
  // (or the destructor), and joins the one that retired before it.
  void retire(uint64_t id);

  const size_t max_calls_;
  std::mutex mutex_;
  bool stopped_ = false;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Worker> running_;
  std::thread last_retired_;  // returned or returning
};

// A unary call answered by a worker: `answer` computes the status (having filled the response)
// and the call finishes with it. The client's cancellation requests the worker's stop token.
class WaitingUnaryCall final : public grpc::ServerUnaryReactor {
 public:
  // Refused at once (etcd's "too many requests", or "server stopped") when no worker starts.
  static grpc::ServerUnaryReactor* start(WaitingCalls& calls,
                                         std::function<grpc::Status(std::stop_token)> answer);

  void OnCancel() override { stop_.request_stop(); }
  void OnDone() override { delete this; }

 private:
  WaitingUnaryCall() = default;
  std::stop_source stop_;
};

// How an error reaches the client of etcd's v3lock and v3election services: they run over
// etcd's in-process client, whose errors are Go errors rather than gRPC statuses, so gRPC sends
// them as Unknown with etcd's text (which etcd's clients map back by text). A wait that ends
// cancelled means the client left (and hears nothing) or the server stops: etcd's
// "server stopped", which is Unavailable so that clients retry elsewhere.
grpc::Status concurrency_error(const Status& status);
// For a condition the service itself reports ("election: not leader"): Unknown with `text`.
grpc::Status concurrency_error(std::string text);

}  // namespace dengine::api
