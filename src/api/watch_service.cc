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

// etcd's sendFragments: a response over the limit with more than one event goes out in pieces
// of whole events, each but the last marked `fragment`; a single event is never split.
std::vector<Response> fragments(Response whole, size_t limit) {
  std::vector<Response> pieces;
  if (whole.ByteSizeLong() < limit || whole.events_size() < 2) {
    pieces.push_back(std::move(whole));
    return pieces;
  }
  Response empty = whole;
  empty.clear_events();
  Response current = empty;
  for (mvccpb::Event& event : *whole.mutable_events()) {
    current.add_events()->Swap(&event);
    if (current.events_size() > 1 && current.ByteSizeLong() >= limit) {
      Response next = empty;
      next.add_events()->Swap(current.mutable_events(current.events_size() - 1));
      current.mutable_events()->RemoveLast();
      current.set_fragment(true);
      pieces.push_back(std::move(current));
      current = std::move(next);
    }
  }
  pieces.push_back(std::move(current));
  return pieces;
}

class WatchStream final : public BidiStream<Request, Response>,
                          public WatchService::ProgressListener {
 public:
  WatchStream(const MemberHeader& header, WatchService& service, size_t max_response_bytes)
      : BidiStream(kMaxQueuedResponses),
        header_(header),
        service_(service),
        max_response_bytes_(max_response_bytes) {
    service_.listen(this);
    start();
  }

  void notify_progress() override {
    std::vector<std::shared_ptr<Watch>> asking;
    {
      std::lock_guard lock(mutex_);
      // As etcd's progress ticker: a watch that sent events since the last round has told
      // its progress already.
      for (auto& [id, entry] : watches_) {
        if (entry.watch && entry.progress_notify && !entry.sent_since_progress) {
          asking.push_back(entry.watch);
        }
        entry.sent_since_progress = false;
      }
    }
    for (const std::shared_ptr<Watch>& watch : asking) watch->request_progress();
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
      watches_[id] = Entry{.watch = nullptr,  // reserved
                           .progress_notify = create.progress_notify(),
                           .fragment = create.fragment()};
    }
    auto watch = std::make_shared<Watch>(
        header_.engine().client().watch_range(std::move(key), range_end, options));
    {
      std::lock_guard lock(mutex_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // cancelled meanwhile; `watch` ends with this scope
      it->second.watch = watch;
    }
    pull(id, watch);
  }

  void cancel(int64_t id) {
    std::shared_ptr<Watch> watch;
    {
      std::lock_guard lock(mutex_);
      auto it = watches_.find(id);
      if (it == watches_.end()) return;  // etcd says nothing of an unknown id
      watch = std::move(it->second.watch);
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
    if (it == watches_.end() || !it->second.watch) return nullptr;  // cancelled
    Entry& entry = it->second;
    if (!batch) {
      Response ended;
      ended.set_watch_id(id);
      ended.set_canceled(true);
      if (batch.status().is(ErrorDetail::kCompacted)) {
        // etcd: the compacted response carries the compaction revision and a zero header.
        ended.set_compact_revision(entry.watch->compact_revision());
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
    // A batch without events is a progress notification: etcd's progress response.
    if (!batch->events.empty() || entry.progress_notify) {
      if (!batch->events.empty()) entry.sent_since_progress = true;
      Response events;
      header_.fill_without_revision(events.mutable_header());
      events.mutable_header()->set_revision(batch->revision);
      events.set_watch_id(id);
      for (const Event& event : batch->events) to_wire(event, events.add_events());
      if (entry.fragment) {
        for (Response& piece : fragments(std::move(events), max_response_bytes_)) {
          send_locked(std::move(piece));
        }
      } else {
        send_locked(std::move(events));
      }
    }
    if (queue_has_room_locked()) return entry.watch;
    parked_.insert(id);  // pulled again once the client reads
    return nullptr;
  }

  void on_queue_drained() override {
    std::vector<std::pair<int64_t, std::shared_ptr<Watch>>> ready;
    {
      std::lock_guard lock(mutex_);
      for (auto it = parked_.begin(); it != parked_.end() && queue_has_room_locked();) {
        auto watch = watches_.find(*it);
        if (watch != watches_.end() && watch->second.watch) {
          ready.emplace_back(*it, watch->second.watch);
        }
        it = parked_.erase(it);
      }
    }
    for (auto& [id, watch] : ready) pull(id, watch);
  }

  void on_client_closed() override { cancel_all(); }
  void on_stream_done() override {
    service_.unlisten(this);
    cancel_all();
  }

  void cancel_all() {
    std::map<int64_t, Entry> ending;
    {
      std::lock_guard lock(mutex_);
      ending.swap(watches_);
      parked_.clear();
    }
    for (auto& [id, entry] : ending) {
      if (entry.watch) entry.watch->cancel();
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

  struct Entry {
    std::shared_ptr<Watch> watch;  // null: reserved while its create is being answered
    bool progress_notify = false;
    bool fragment = false;
    bool sent_since_progress = false;  // events went out since the last progress round
  };

  const MemberHeader& header_;
  WatchService& service_;
  const size_t max_response_bytes_;
  // Guarded by mutex_.
  std::map<int64_t, Entry> watches_;
  std::set<int64_t> parked_;  // held back while the client's queue is full
  int64_t next_id_ = 0;
};

}  // namespace

WatchService::WatchService(const MemberHeader& header, WatchServiceOptions options)
    : header_(header), options_(options) {
  timer_ = std::thread([this] { run_progress_timer(); });
}

WatchService::~WatchService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  timer_.join();
}

grpc::ServerBidiReactor<Request, Response>* WatchService::Watch(
    grpc::CallbackServerContext* /*context*/) {
  return new WatchStream(header_, *this, options_.max_response_bytes);  // deletes itself
}

void WatchService::listen(ProgressListener* listener) {
  std::lock_guard lock(mutex_);
  listeners_.insert(listener);
}

void WatchService::unlisten(ProgressListener* listener) {
  // The timer calls listeners with mutex_ held: once this has it, no call is in progress.
  std::lock_guard lock(mutex_);
  listeners_.erase(listener);
}

// One thread for every stream: a progress round asks each watch that wants progress for it;
// the engine answers those that are synced, in line with their events.
void WatchService::run_progress_timer() {
  const std::chrono::milliseconds interval = options_.progress_interval.count() > 0
                                                 ? options_.progress_interval
                                                 : std::chrono::milliseconds(600'000);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, interval, [this] { return stopping_; })) return;
    for (ProgressListener* listener : listeners_) listener->notify_progress();
  }
}

}  // namespace dengine::api
