#pragma once

// One watch over etcd's Watch stream, resumed after a broken stream from the revision after the
// last one delivered (on the next endpoint when the member went away): no gap, no duplicate.
// The consumer's side is kv_client's WatchChannelImpl; when its buffer is full the stream is
// not read until the consumer has made room (gRPC's flow control holds the server back).

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <grpcpp/support/status.h>

#include "dengine/watch.h"
#include "etcd/etcdserverpb/rpc.pb.h"
#include "kv_client/watch_channel.h"

namespace dengine::client {

class GrpcKvBackend;
class WatchStream;

class RemoteWatch : public std::enable_shared_from_this<RemoteWatch> {
 public:
  static std::shared_ptr<RemoteWatch> open(GrpcKvBackend& backend, uint64_t id, std::string key,
                                           std::string range_end, WatchOptions options);
  RemoteWatch(GrpcKvBackend& backend, uint64_t id, std::string key, std::string range_end,
              WatchOptions options, std::shared_ptr<kv_client::WatchHubLink> link);

  [[nodiscard]] std::shared_ptr<kv_client::WatchChannelImpl> channel() const { return channel_; }
  // The client is closing: the watch ends with `why`.
  void shut(Status why);

  // ---- the stream (gRPC's threads) ----
  // Whether to read on: false while the consumer's buffer is full.
  bool on_response(const etcdserverpb::WatchResponse& response);
  void on_stream_done(const grpc::Status& status, size_t endpoint);

 private:
  // A stream from next_revision_ on the member in use (dialled on the worker if need be).
  void connect();
  void start_on(size_t index);
  // The create request of the next stream. Holds mutex_.
  [[nodiscard]] etcdserverpb::WatchRequest create_request() const;
  void notice(kv_client::WatchNotice notice);
  // Offers `batch` (outside the lock); holds it when refused.
  bool deliver(WatchBatch batch);

  GrpcKvBackend& backend_;
  const std::string key_;
  const std::string range_end_;
  const WatchOptions options_;
  const std::shared_ptr<kv_client::WatchHubLink> link_;
  const std::shared_ptr<kv_client::WatchChannelImpl> channel_;

  std::mutex mutex_;
  // The first revision not delivered yet; 0 until the server told where "now" is.
  int64_t next_revision_ = 0;
  bool ended_ = false;
  std::shared_ptr<WatchStream> stream_;
  std::optional<WatchBatch> held_;  // refused by a full buffer
  bool resume_asked_ = false;       // the consumer made room while a refusal was on its way
};

}  // namespace dengine::client
