// The gRPC peer transport on 127.0.0.1: a sender's messages reach the peer in order; batches
// from another cluster or from a non-member are refused and never stepped; a sender whose peer
// restarts reconnects by itself.

#include "net/grpc_transport.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "net/peer_service.h"

namespace dengine::net {
namespace {

constexpr uint64_t kCluster = 0xcdf818194e3a8c32ULL;
constexpr auto kPatience = std::chrono::seconds(20);

// Member 2's listener, collecting what it is delivered.
class Receiver {
 public:
  explicit Receiver(int port = 0)
      : service_(
            kCluster, 2, [](NodeId id) { return id >= 1 && id <= 3; },
            [this](Message message) {
              std::lock_guard lock(mutex_);
              received_.push_back(std::move(message));
              arrived_.notify_all();
            }) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~Receiver() { server_->Shutdown(std::chrono::system_clock::now()); }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const PeerService& service() const { return service_; }
  // Waits until `count` messages arrived (or the patience ran out); returns them all.
  std::vector<Message> await(size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, kPatience, [&] { return received_.size() >= count; });
    return received_;
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

 private:
  PeerService service_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Message> received_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

GrpcTransportOptions sender(uint64_t cluster, NodeId self, int peer_port) {
  GrpcTransportOptions options;
  options.cluster_id = cluster;
  options.self = self;
  options.address_of = [peer_port](NodeId id) -> std::optional<std::string> {
    if (id != 2) return std::nullopt;
    return "127.0.0.1:" + std::to_string(peer_port);
  };
  options.first_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(200);
  return options;
}

Message heartbeat(NodeId from, uint64_t context) {
  Message message;
  message.type = MessageType::kHeartbeat;
  message.from = from;
  message.to = 2;
  message.term = 3;
  message.context = context;
  return message;
}

bool wait_until(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(GrpcTransport, MessagesToAPeerArriveInTheOrderTheyWereSent) {
  Receiver receiver;
  ASSERT_GT(receiver.port(), 0);
  GrpcTransport transport(sender(kCluster, 1, receiver.port()));
  constexpr uint64_t kMessages = 2000;
  for (uint64_t i = 0; i < kMessages; i += 10) {
    std::vector<Message> batch;
    for (uint64_t j = i; j < i + 10; ++j) batch.push_back(heartbeat(1, j));
    transport.send(std::move(batch));
  }
  const std::vector<Message> received = receiver.await(kMessages);
  ASSERT_EQ(received.size(), kMessages);
  for (uint64_t i = 0; i < kMessages; ++i) EXPECT_EQ(received[i].context, i);
  EXPECT_EQ(transport.dropped(), 0U);
}

TEST(GrpcTransport, ABatchFromAnotherClusterIsRefusedAndNeverStepped) {
  Receiver receiver;
  GrpcTransport stranger(sender(kCluster + 1, 1, receiver.port()));
  stranger.send({heartbeat(1, 1)});
  ASSERT_TRUE(wait_until([&] { return receiver.service().refused() >= 1; }));
  EXPECT_EQ(receiver.count(), 0U);
}

TEST(GrpcTransport, ABatchFromANonMemberIsRefusedAndNeverStepped) {
  Receiver receiver;
  GrpcTransport outsider(sender(kCluster, 9, receiver.port()));
  outsider.send({heartbeat(9, 1)});
  ASSERT_TRUE(wait_until([&] { return receiver.service().refused() >= 1; }));
  EXPECT_EQ(receiver.count(), 0U);
}

TEST(GrpcTransport, AMessageToAPeerWithNoKnownAddressIsDropped) {
  Receiver receiver;
  GrpcTransport transport(sender(kCluster, 1, receiver.port()));
  Message to_unknown = heartbeat(1, 1);
  to_unknown.to = 3;
  transport.send({to_unknown});
  EXPECT_EQ(transport.dropped(), 1U);
}

TEST(GrpcTransport, ASenderReconnectsWhenItsPeerComesBack) {
  auto receiver = std::make_unique<Receiver>();
  const int port = receiver->port();
  GrpcTransport transport(sender(kCluster, 1, port));
  transport.send({heartbeat(1, 1)});
  ASSERT_EQ(receiver->await(1).size(), 1U);
  receiver.reset();  // the peer goes away

  Receiver restarted(port);
  ASSERT_EQ(restarted.port(), port);
  // Raft resends what matters; keep sending until one gets through the new connection.
  uint64_t context = 2;
  ASSERT_TRUE(wait_until([&] {
    transport.send({heartbeat(1, context++)});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return restarted.count() > 0;
  }));
}

}  // namespace
}  // namespace dengine::net
