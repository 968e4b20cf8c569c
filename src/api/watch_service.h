#pragma once

// etcd's Watch service: one two-way stream carries many watches (create, cancel, progress
// requests in; created, event, canceled and compacted responses out), each an engine Watch
// (dengine/watch.h), which delivers every event once, in revision order. A client that stops
// reading holds a bounded queue here; its watches then stop pulling events and later catch up
// from the store's history, so a slow client never slows the engine.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <thread>

#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

struct WatchServiceOptions {
  // etcd's --experimental-watch-progress-notify-interval: how often a watch created with
  // progress_notify hears the revision it is synced to while no events come (0: 10 minutes).
  std::chrono::milliseconds progress_interval{600'000};
  // etcd's --max-request-bytes: a watch created with `fragment` gets its larger responses in
  // pieces of about this size.
  size_t max_response_bytes = 1'572'864;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  WatchService(const MemberHeader& header, WatchServiceOptions options);
  // Stops the progress timer; the gRPC server must have been shut down before.
  ~WatchService() override;
  WatchService(const WatchService&) = delete;
  WatchService& operator=(const WatchService&) = delete;

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;

  // A stream that wants periodic progress notifications for its watches.
  class ProgressListener {
   public:
    virtual void notify_progress() = 0;

   protected:
    ~ProgressListener() = default;
  };
  void listen(ProgressListener* listener);
  // Returns once the timer no longer calls `listener`.
  void unlisten(ProgressListener* listener);

 private:
  void run_progress_timer();

  const MemberHeader& header_;
  const WatchServiceOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<ProgressListener*> listeners_;
  std::thread timer_;
};

}  // namespace dengine::api
