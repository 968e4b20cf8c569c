#include "api/election_observe.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>

#include "api/etcd_codec.h"
#include "api/etcd_status.h"
#include "dengine/clock.h"
#include "dengine/embedded_engine.h"
#include "recipes/deadline.h"
#include "recipes/key_queue.h"
#include "recipes/timed_watch.h"

namespace dengine::api {
namespace {

// Reports a leader's key with the revision of its response header; an error once the client
// is gone.
using Report = std::function<Status(const KeyValue& leader, int64_t revision)>;

// While nothing is under the prefix, the first key put there is the leader.
Result<KeyValue> first_candidate(KvClient& kv, const std::string& prefix, int64_t from_revision,
                                 const recipes::Deadline& deadline) {
  WatchOptions options;
  options.start_revision = from_revision;
  options.no_delete = true;
  recipes::TimedWatch puts(kv.watch_prefix(prefix, options));
  while (true) {
    Result<WatchBatch> batch = puts.next(deadline);
    if (!batch) return batch.status();
    if (!batch->events.empty()) return batch->events.front().kv;
  }
}

// Reports each proclamation (put) of the leader's key from `from_revision` on; returns once
// the key is deleted.
Status follow_leader(KvClient& kv, const std::string& key, int64_t from_revision,
                     const recipes::Deadline& deadline, const Report& report) {
  WatchOptions options;
  options.start_revision = from_revision;
  recipes::TimedWatch changes(kv.watch(key, options));
  while (true) {
    Result<WatchBatch> batch = changes.next(deadline);
    if (!batch) return batch.status();
    for (const Event& event : batch->events) {
      if (event.type == EventType::kDelete) return Status::ok();
      if (Status reported = report(event.kv, batch->revision); !reported) return reported;
    }
  }
}

// etcd's observe loop; returns why it stopped.
Status follow_leaders(KvClient& kv, const std::string& prefix, const recipes::Deadline& deadline,
                      const Report& report) {
  while (true) {
    Result<RangeResponse> oldest = kv.range(recipes::first_created(prefix));
    if (!oldest) return oldest.status();
    KeyValue leader;
    int64_t revision = oldest->revision;
    if (!oldest->kvs.empty()) {
      leader = std::move(oldest->kvs.front());
    } else {
      Result<KeyValue> first = first_candidate(kv, prefix, oldest->revision + 1, deadline);
      if (!first) return first.status();
      leader = std::move(*first);
      revision = leader.mod_revision;  // as etcd: the put's, whatever else its batch held
    }
    if (Status reported = report(leader, revision); !reported) return reported;
    if (Status deleted = follow_leader(kv, leader.key, revision + 1, deadline, report); !deleted) {
      return deleted;
    }
  }
}

class ObserveStream final : public grpc::ServerWriteReactor<v3electionpb::LeaderResponse> {
 public:
  explicit ObserveStream(const MemberHeader& header) : header_(header) {}

  void start(WaitingCalls& waiting, std::string prefix) {
    Status started = waiting.run(stop_, [this, prefix = std::move(prefix)](std::stop_token stop) {
      Finish(observe(prefix, std::move(stop)));  // gRPC may delete the stream from here on
    });
    if (!started) Finish(to_grpc_status(started));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    write_ok_ = ok;
    written_.notify_all();
  }
  void OnCancel() override { stop_.request_stop(); }
  void OnDone() override { delete this; }

 private:
  grpc::Status observe(const std::string& prefix, std::stop_token stop) {
    WaitOptions wait;
    wait.stop = std::move(stop);
    const recipes::Deadline until_stopped(steady_clock(), wait);
    Status ended = follow_leaders(
        header_.engine().client(), prefix, until_stopped,
        [this](const KeyValue& leader, int64_t revision) { return write(leader, revision); });
    // The client left, or the server stops.
    if (ended.code() == StatusCode::kCancelled) return concurrency_error(ended);
    // etcd's observe closes its channel at any other error (a compacted history, a failed
    // read), and Observe then ends the stream with OK.
    return grpc::Status::OK;
  }

  // Waits for the write to complete: a write gRPC has started always completes, at the latest
  // when the call is cancelled.
  Status write(const KeyValue& leader, int64_t revision) {
    v3electionpb::LeaderResponse response;
    response.mutable_header()->set_revision(revision);
    header_.fill(response.mutable_header());
    to_wire(leader, response.mutable_kv());
    {
      std::lock_guard lock(mutex_);
      writing_ = true;
    }
    StartWrite(&response);
    std::unique_lock lock(mutex_);
    written_.wait(lock, [this] { return !writing_; });
    if (!write_ok_) return Status::cancelled("observe: the client is gone");
    return Status::ok();
  }

  const MemberHeader& header_;
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable written_;
  bool writing_ = false;  // guarded by mutex_
  bool write_ok_ = true;  // guarded by mutex_
};

}  // namespace

grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* start_observe(const MemberHeader& header,
                                                                      WaitingCalls& waiting,
                                                                      std::string prefix) {
  auto* stream = new ObserveStream(header);
  stream->start(waiting, std::move(prefix));
  return stream;
}

}  // namespace dengine::api
