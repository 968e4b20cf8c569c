#pragma once

// The members a remote client may talk to, one gRPC channel each, and which one is in use.
// Failover moves to the next one when the one in use is unavailable.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "dengine/status.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::client {

struct Member {
  std::string address;  // host:port
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
};

class Endpoints {
 public:
  // kInvalidArgument for an empty list or an empty address.
  static Result<std::unique_ptr<Endpoints>> make(const std::vector<std::string>& addresses);

  // The member in use if its channel is connected now (no wait); the number of members otherwise.
  [[nodiscard]] size_t ready() const;
  // The member in use once connected, or the next ones in turn, each waited for until
  // `dial_deadline` at most; kUnavailable when none connects. Blocks.
  Result<size_t> dial(std::chrono::system_clock::time_point dial_deadline);
  // The call to `index` found it unavailable: later calls go to the next member.
  void failed(size_t index);

  [[nodiscard]] Member& at(size_t index) { return members_[index]; }
  [[nodiscard]] size_t size() const { return members_.size(); }
  [[nodiscard]] size_t current() const { return current_.load(std::memory_order_acquire); }

 private:
  std::vector<Member> members_;
  std::atomic<size_t> current_{0};
};

}  // namespace dengine::client
