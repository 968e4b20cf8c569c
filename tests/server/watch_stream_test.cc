// The Watch service with a real gRPC client: a client that stops reading while thousands of
// revisions are written must still receive every event exactly once, in revision order, once
// it reads again (the server holds a bounded queue and catches the watch up from history), and
// several watches share one stream without mixing their events.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

class WatchStream : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started()) << server_.log();
    channel_ = grpc::CreateChannel(server_.endpoint(), grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
  }

  int64_t put(const std::string& key, const std::string& value) {
    etcdserverpb::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    etcdserverpb::PutResponse response;
    grpc::ClientContext context;
    const grpc::Status status = kv_->Put(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.header().revision();
  }

  static WatchRequest create_prefix(const std::string& prefix, int64_t watch_id) {
    WatchRequest request;
    auto* create = request.mutable_create_request();
    create->set_key(prefix);
    std::string end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    create->set_range_end(end);
    create->set_watch_id(watch_id);
    return request;
  }

  // Progress every 300 ms instead of etcd's 10 minutes; fragments of about 8 KiB.
  ServerProcess server_{
      fresh_test_dir() + "/data",
      {"--experimental-watch-progress-notify-interval=300ms", "--max-request-bytes=8192"}};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

TEST_F(WatchStream, AClientThatStopsReadingStillGetsEveryEventOnceInOrder) {
  grpc::ClientContext context;
  auto stream = watch_->Watch(&context);
  ASSERT_TRUE(stream->Write(create_prefix("slow/", 0)));
  WatchResponse created;
  ASSERT_TRUE(stream->Read(&created));
  ASSERT_TRUE(created.created());

  // Written while the client reads nothing: far more than the server's queue holds.
  constexpr int kPuts = 3000;
  const std::string value(512, 'v');  // 3000 of them: far over one 8 KiB response
  int64_t last_revision = 0;
  for (int i = 0; i < kPuts; ++i) last_revision = put("slow/" + std::to_string(i), value);

  int64_t expected_revision = created.header().revision() + 1;
  int received = 0;
  WatchResponse response;
  while (received < kPuts && stream->Read(&response)) {
    ASSERT_FALSE(response.canceled()) << response.cancel_reason();
    for (const auto& event : response.events()) {
      ASSERT_EQ(event.kv().mod_revision(), expected_revision) << "a gap or a duplicate";
      ASSERT_EQ(event.kv().key(), "slow/" + std::to_string(received));
      ++expected_revision;
      ++received;
    }
  }
  EXPECT_EQ(received, kPuts);
  EXPECT_EQ(expected_revision - 1, last_revision);
  context.TryCancel();
}

TEST_F(WatchStream, WatchesOnOneStreamKeepTheirOwnEventsAndCancelAlone) {
  grpc::ClientContext context;
  auto stream = watch_->Watch(&context);
  ASSERT_TRUE(stream->Write(create_prefix("a/", 7)));
  ASSERT_TRUE(stream->Write(create_prefix("b/", 0)));
  WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.watch_id(), 7);
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.watch_id(), 0);
  // A duplicate id is refused with etcd's text.
  ASSERT_TRUE(stream->Write(create_prefix("c/", 7)));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");

  put("a/1", "x");
  put("b/1", "y");
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.watch_id(), 7);
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).kv().key(), "a/1");
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.watch_id(), 0);
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).kv().key(), "b/1");

  WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(7);
  ASSERT_TRUE(stream->Write(cancel));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.canceled());
  EXPECT_EQ(response.watch_id(), 7);
  put("a/2", "x");
  put("b/2", "y");
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.watch_id(), 0) << "the cancelled watch still delivered";
  EXPECT_EQ(response.events(0).kv().key(), "b/2");

  // The client closes its side: the server ends the stream with OK.
  ASSERT_TRUE(stream->WritesDone());
  while (stream->Read(&response)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(WatchStream, AQuietWatchThatAskedForProgressHearsTheRevisionItIsSyncedTo) {
  grpc::ClientContext context;
  auto stream = watch_->Watch(&context);
  WatchRequest request = create_prefix("quiet/", 3);
  request.mutable_create_request()->set_progress_notify(true);
  ASSERT_TRUE(stream->Write(request));
  WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.created());
  const int64_t written = put("elsewhere", "x");
  // Progress responses carry the watch id, no events, and the revision the watch has seen.
  bool heard = false;
  for (int reads = 0; reads < 50 && !heard; ++reads) {
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.watch_id(), 3);
    EXPECT_EQ(response.events_size(), 0);
    EXPECT_LE(response.header().revision(), written);
    heard = response.header().revision() == written;
  }
  EXPECT_TRUE(heard) << "no progress notification reached the written revision";
  context.TryCancel();
}

TEST_F(WatchStream, AFragmentedWatchGetsLargeResponsesInPiecesOfWholeEvents) {
  const std::string value(2000, 'f');
  const int64_t first = put("big/0", value);
  for (int i = 1; i < 20; ++i) put("big/" + std::to_string(i), value);
  grpc::ClientContext context;
  auto stream = watch_->Watch(&context);
  WatchRequest request = create_prefix("big/", 0);
  request.mutable_create_request()->set_start_revision(first);
  request.mutable_create_request()->set_fragment(true);
  ASSERT_TRUE(stream->Write(request));
  WatchResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.created());
  int received = 0;
  int fragments = 0;
  bool last_was_fragment = false;
  while (received < 20 && stream->Read(&response)) {
    // etcd's rule: a piece holding more than one event stays under the limit.
    if (response.events_size() > 1) {
      EXPECT_LT(response.ByteSizeLong(), 8192U);
    }
    for (const auto& event : response.events()) {
      ASSERT_EQ(event.kv().key(), "big/" + std::to_string(received));
      ++received;
    }
    if (response.fragment()) ++fragments;
    last_was_fragment = response.fragment();
  }
  EXPECT_EQ(received, 20);
  EXPECT_GT(fragments, 0) << "20 events of 2 KB came without fragmenting";
  EXPECT_FALSE(last_was_fragment) << "the last piece must not be marked as a fragment";
  context.TryCancel();
}

// A field of /proc/<pid>/status ("Threads", "VmRSS"), as a number; -1 if absent.
int64_t proc_status(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

TEST_F(WatchStream, TenThousandOpenWatchStreamsCostMemoryNotThreads) {
  constexpr int kStreams = 10'000;
  const int64_t threads_before = proc_status(server_.pid(), "Threads");
  const int64_t rss_before = proc_status(server_.pid(), "VmRSS");
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>>> streams;
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(watch_->Watch(contexts.back().get()));
    ASSERT_TRUE(streams.back()->Write(create_prefix("many/", 0))) << "stream " << i;
  }
  WatchResponse response;
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_TRUE(streams[static_cast<size_t>(i)]->Read(&response)) << "stream " << i;
    ASSERT_TRUE(response.created()) << "stream " << i;
  }
  const int64_t threads_open = proc_status(server_.pid(), "Threads");
  const int64_t rss_open = proc_status(server_.pid(), "VmRSS");
  std::printf("%d watch streams: server threads %lld -> %lld, RSS %lld -> %lld kB\n", kStreams,
              static_cast<long long>(threads_before), static_cast<long long>(threads_open),
              static_cast<long long>(rss_before), static_cast<long long>(rss_open));
  // gRPC's callback API: a few pollers and executors, never a thread per stream.
  EXPECT_LT(threads_open, threads_before + 32);

  // Every stream still sees a write.
  const int64_t written = put("many/x", "1");
  for (const auto& stream : streams) {
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.events_size(), 1);
    EXPECT_EQ(response.events(0).kv().mod_revision(), written);
  }
  for (const auto& context : contexts) context->TryCancel();
}

}  // namespace
}  // namespace dengine::test
