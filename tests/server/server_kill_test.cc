// dengine-server killed with SIGKILL while a client keeps writing: after a restart on the same
// data dir every write it acknowledged is there, with its value. A SIGKILL leaves the page cache
// intact, so this shows the process never answers before a write reached its WAL; that the WAL
// syncs before it reports is shown on the power-cut file layer (tests/log).

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

std::unique_ptr<etcdserverpb::KV::Stub> kv_stub(const std::string& endpoint) {
  return etcdserverpb::KV::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
}

TEST(ServerKill, EveryAcknowledgedWriteSurvivesASigkill) {
  const std::string data_dir = fresh_test_dir() + "/data";
  std::vector<int> acknowledged;
  {
    ServerProcess server(data_dir);
    ASSERT_TRUE(server.started()) << server.log();
    auto kv = kv_stub(server.endpoint());
    std::atomic<bool> stop{false};
    std::atomic<int> acked{0};
    std::thread writer([&] {
      for (int i = 0; !stop.load(); ++i) {
        etcdserverpb::PutRequest put;
        put.set_key("acked/" + std::to_string(i));
        put.set_value("value-" + std::to_string(i));
        etcdserverpb::PutResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        if (!kv->Put(&context, put, &response).ok()) return;  // the server died under it
        acknowledged.push_back(i);
        acked.store(static_cast<int>(acknowledged.size()));
      }
    });
    // Kill it mid-stream, once a few hundred writes were acknowledged.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acked.load() < 300 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server.kill_hard();
    stop = true;
    writer.join();
  }
  ASSERT_GE(acknowledged.size(), 100U) << "too few writes before the kill to mean much";

  ServerProcess restarted(data_dir);
  ASSERT_TRUE(restarted.started()) << restarted.log();
  auto kv = kv_stub(restarted.endpoint());
  for (const int i : acknowledged) {
    etcdserverpb::RangeRequest get;
    get.set_key("acked/" + std::to_string(i));
    etcdserverpb::RangeResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(kv->Range(&context, get, &response).ok());
    ASSERT_EQ(response.kvs_size(), 1) << "acknowledged write " << i << " was lost";
    EXPECT_EQ(response.kvs(0).value(), "value-" + std::to_string(i));
  }
}

}  // namespace
}  // namespace dengine::test
