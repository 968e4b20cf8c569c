#include "api/watch_service.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/bidi_stream.h"
#include "api/etcd_codec.h"
#include "dengine/embedded_engine.h"

namespace dengine::api {
namespace {

// Responses queued for a client before its watches stop pulling events.
constexpr size_t kMaxQueuedResponses = 256;
// etcd's texts for a create it refuses (mvcc/watcher.go).
constexpr const char* kEmptyRangeReason = "mvcc: watcher range is empty";
constexpr const char* kDuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";

using Request = etcdserverpb::WatchRequest;
using Response = etcdserverpb::WatchResponse;

class WatchStream final : public BidiStream<Request, Response> {
 public:
  explicit WatchStream(const MemberHeader& header)
      : BidiStream(kMaxQueuedResponses), header_(header) {
    start();
  }

 private:
  void on_request(const Request& request) override {
    switch (request.request_union_case()) {
      case Request::kCreateRequest: return create(request.create_request());
      case Request::kCancelRequest: return cancel(request.cancel_request().watch_id());
      case Request::kProgressRequest:
        // etcd 3.4 answers at once, for every watch of the stream (watch id -1).
        return (void)send(with_current_header(-1));
      case Request::REQUEST_UNION_NOT_SET: return;
    }
  }

  void create(const etcdserverpb::WatchCreateRequest& create) {
    // etcd: an empty key watches "\0"; range_end "\0" means every key from `key` on.
    std::string key = create.key().empty() ? std::string(1, '\0') : create.key();
    const std::string& range_end = create.range_end();
    const bool from_key = range_end == std::string(1, '\0');
    if (!range_end.empty() && !from_key && key >= range_end) return refuse(kEmptyRangeReason);

    WatchOptions options;
    options.start_revision = create.start_revision();
    options.prev_kv = create.prev_kv();
    for (const int filter : create.filters()) {
      if (filter == etcdserverpb::WatchCreateRequest::NOPUT) options.no_put = true;
      if (filter == etcdserverpb::WatchCreateRequest::NODELETE) options.no_delete = true;
    }
    int64_t id = create.watch_id();
    {
      std::lock_guard lock(mutex_);
      if (id != 0 && watches_.contains(id)) return refuse_locked(kDuplicateIdReason);
      if (id == 0) {
        while (watches_.contains(next_id_)) ++next_id_;
        id = next_id_++;
      }
      Response created = with_current_header(id);
      created.set_created(true);
      // Queued before the watch exists, so it goes out before any of its events.
      send_locked(std::move(created));
      watches_[id] = nullptr;  // reserved
    }
    auto watch = std::make_shared<Watch>(
        header_.engine().client().watch_range(std::move(key), range_end, options));
    {
      std::lock_guard lock(mutex_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // cancelled meanwhile; `watch` ends with this scope
      it->second = watch;
    }
    pull(id, watch);
  }

  void cancel(int64_t id) {
    std::shared_ptr<Watch> watch;
    {
      std::lock_guard lock(mutex_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // etcd says nothing of an unknown id
      watch = std::move(it->second);
      watches_.erase(it);
      parked_.erase(id);
      Response canceled = with_current_header(id);
      canceled.set_canceled(true);
      send_locked(std::move(canceled));
    }
    // Outside the lock: cancelling may run the watch's pending completion at once.
    if (watch) watch->cancel();
  }

  // Asks the engine for the watch's next batch; the completion queues it and asks again while
  // the client keeps up.
  void pull(int64_t id, const std::shared_ptr<Watch>& watch) {
    owe();
    watch->async_next([this, id](Result<WatchBatch> batch) {
      std::shared_ptr<Watch> again = deliver(id, std::move(batch));
      if (again) pull(id, again);
      repaid();
    });
  }

  // Queues what the watch produced. Returns the watch when it should be pulled again now.
  std::shared_ptr<Watch> deliver(int64_t id, Result<WatchBatch> batch) {
    std::lock_guard lock(mutex_);
    auto it = watches_.find(id);
    if (it == watches_.end() || !it->second) return nullptr;  // cancelled
    if (!batch) {
      Response ended;
      ended.set_watch_id(id);
      ended.set_canceled(true);
      const std::optional<KvError> error = kv_error_of(batch.status());
      if (error && *error == KvError::kCompacted) {
        // etcd: the compacted response carries the compaction revision and a zero header.
        ended.set_compact_revision(it->second->compact_revision());
        header_.fill_without_revision(ended.mutable_header());
      } else if (batch.status().code() == StatusCode::kCancelled) {
        return nullptr;
      } else {
        header_.fill_without_revision(ended.mutable_header());
        ended.set_cancel_reason(batch.status().message());
      }
      watches_.erase(it);
      send_locked(std::move(ended));
      return nullptr;
    }
    if (!batch->events.empty()) {
      Response events;
      header_.fill_without_revision(events.mutable_header());
      events.mutable_header()->set_revision(batch->revision);
      events.set_watch_id(id);
      for (const Event& event : batch->events) to_wire(event, events.add_events());
      send_locked(std::move(events));
    }
    if (queue_has_room_locked()) return it->second;
    parked_.insert(id);  // pulled again once the client reads
    return nullptr;
  }

  void on_queue_drained() override {
    std::vector<std::pair<int64_t, std::shared_ptr<Watch>>> ready;
    {
      std::lock_guard lock(mutex_);
      for (auto it = parked_.begin(); it != parked_.end() && queue_has_room_locked();) {
        auto watch = watches_.find(*it);
        if (watch != watches_.end() && watch->second) ready.emplace_back(*it, watch->second);
        it = parked_.erase(it);
      }
    }
    for (auto& [id, watch] : ready) pull(id, watch);
  }

  void on_client_closed() override { cancel_all(); }
  void on_stream_done() override { cancel_all(); }

  void cancel_all() {
    std::map<int64_t, std::shared_ptr<Watch>> ending;
    {
      std::lock_guard lock(mutex_);
      ending.swap(watches_);
      parked_.clear();
    }
    for (auto& [id, watch] : ending) {
      if (watch) watch->cancel();
    }
  }

  void refuse(const char* reason) {
    std::lock_guard lock(mutex_);
    refuse_locked(reason);
  }
  void refuse_locked(const char* reason) {
    Response refused;
    header_.fill(refused.mutable_header());
    refused.set_watch_id(-1);
    refused.set_created(true);
    refused.set_canceled(true);
    refused.set_cancel_reason(reason);
    send_locked(std::move(refused));
  }

  [[nodiscard]] Response with_current_header(int64_t id) const {
    Response response;
    header_.fill(response.mutable_header());
    response.set_watch_id(id);
    return response;
  }

  const MemberHeader& header_;
  // Guarded by mutex_. A null watch is reserved: its create is being answered.
  std::map<int64_t, std::shared_ptr<Watch>> watches_;
  std::set<int64_t> parked_;  // held back while the client's queue is full
  int64_t next_id_ = 0;
};

}  // namespace

grpc::ServerBidiReactor<Request, Response>* WatchService::Watch(
    grpc::CallbackServerContext* /*context*/) {
  return new WatchStream(header_);  // deletes itself when done (BidiStream)
}

}  // namespace dengine::api
