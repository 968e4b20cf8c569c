#include "client/remote_watch.h"

#include <utility>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <grpcpp/support/client_callback.h>

#include "api/etcd_status.h"
#include "client/client_codec.h"
#include "client/grpc_kv_backend.h"

namespace dengine::client {

// One attempt: a Watch stream with one create request. Lives until gRPC is done with it.
class WatchStream final
    : public grpc::ClientBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>,
      public std::enable_shared_from_this<WatchStream> {
 public:
  WatchStream(std::shared_ptr<RemoteWatch> watch, size_t endpoint)
      : watch_(std::move(watch)), endpoint_(endpoint) {}

  void start(Member& member, etcdserverpb::WatchRequest create) {
    self_ = shared_from_this();
    create_ = std::move(create);
    member.watch->async()->Watch(&context_, this);
    writing_ = true;
    StartWrite(&create_);
    StartRead(&response_);
    StartCall();
  }
  void cancel() { context_.TryCancel(); }
  void read_on() { StartRead(&response_); }
  void request_progress() {
    std::lock_guard lock(mutex_);
    if (writing_) return;  // one is on its way; they say the same
    writing_ = true;
    progress_.mutable_progress_request();
    StartWrite(&progress_);
  }

  void OnWriteDone(bool /*ok*/) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (watch_->on_response(response_)) StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<WatchStream> keep = std::move(self_);
    watch_->on_stream_done(status, endpoint_);
  }

 private:
  const std::shared_ptr<RemoteWatch> watch_;
  const size_t endpoint_;
  std::shared_ptr<WatchStream> self_;  // until OnDone
  grpc::ClientContext context_;
  etcdserverpb::WatchRequest create_;
  etcdserverpb::WatchRequest progress_;
  etcdserverpb::WatchResponse response_;
  std::mutex mutex_;
  bool writing_ = false;
};

std::shared_ptr<RemoteWatch> RemoteWatch::open(GrpcKvBackend& backend, uint64_t id, std::string key,
                                               std::string range_end, WatchOptions options) {
  auto slot = std::make_shared<std::weak_ptr<RemoteWatch>>();
  // The link reaches the watch through a weak pointer: a Watch handle may outlive it.
  auto link =
      std::make_shared<kv_client::WatchHubLink>([slot](uint64_t, kv_client::WatchNotice notice) {
        if (auto watch = slot->lock()) watch->notice(notice);
      });
  auto watch = std::make_shared<RemoteWatch>(backend, id, std::move(key), std::move(range_end),
                                             options, std::move(link));
  *slot = watch;
  watch->connect();
  return watch;
}

RemoteWatch::RemoteWatch(GrpcKvBackend& backend, uint64_t id, std::string key,
                         std::string range_end, WatchOptions options,
                         std::shared_ptr<kv_client::WatchHubLink> link)
    : backend_(backend),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      options_(options),
      link_(std::move(link)),
      channel_(std::make_shared<kv_client::WatchChannelImpl>(id, options.buffer_events, link_)),
      next_revision_(options.start_revision > 0 ? options.start_revision : 0) {}

etcdserverpb::WatchRequest RemoteWatch::create_request() const {
  etcdserverpb::WatchRequest create;
  auto* request = create.mutable_create_request();
  request->set_key(key_);
  request->set_range_end(range_end_);
  request->set_start_revision(next_revision_);
  request->set_prev_kv(options_.prev_kv);
  if (options_.no_put) request->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  if (options_.no_delete) request->add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  return create;
}

void RemoteWatch::connect() {
  const size_t index = backend_.endpoints().ready();
  if (index < backend_.endpoints().size()) return start_on(index);
  // Not connected: dial on the worker thread, never the caller's.
  asio::post(backend_.worker(), [self = shared_from_this()] {
    const auto deadline = std::chrono::system_clock::now() + self->backend_.options().dial_timeout;
    Result<size_t> dialled = self->backend_.endpoints().dial(deadline);
    // Unreachable for now: start on the member in use anyway; its failure retries.
    self->start_on(dialled ? *dialled : self->backend_.endpoints().current());
  });
}

void RemoteWatch::start_on(size_t index) {
  std::shared_ptr<WatchStream> stream;
  etcdserverpb::WatchRequest create;
  {
    std::lock_guard lock(mutex_);
    if (ended_ || backend_.stopping()) return;
    create = create_request();
    backend_.stream_started();
    stream = std::make_shared<WatchStream>(shared_from_this(), index);
    stream_ = stream;
  }
  // Outside the lock: gRPC may answer on this thread.
  stream->start(backend_.endpoints().at(index), std::move(create));
}

bool RemoteWatch::on_response(const etcdserverpb::WatchResponse& response) {
  WatchBatch batch;
  std::shared_ptr<WatchStream> ending;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return false;
    const int64_t header_revision = response.header().revision();
    if (response.compact_revision() > 0 || response.canceled()) {
      ended_ = true;
      ending = stream_;
    } else {
      if (response.created()) {
        // "From now" is from the server's revision when it created the watch.
        if (next_revision_ == 0) next_revision_ = header_revision + 1;
        if (response.events_size() == 0) return true;
      }
      for (const auto& wire : response.events()) {
        // After a resume the server starts at next_revision_; anything older was delivered.
        if (wire.kv().mod_revision() < next_revision_) continue;
        batch.events.push_back(from_wire(wire));
      }
      batch.revision = header_revision;
      if (!batch.events.empty()) {
        next_revision_ = batch.events.back().kv.mod_revision + 1;
      } else if (response.events_size() == 0) {
        // A progress notification: every revision up to the header's has been sent.
        next_revision_ = std::max(next_revision_, header_revision + 1);
      } else {
        return true;  // only events delivered before the resume
      }
    }
  }
  if (response.compact_revision() > 0 || response.canceled()) {
    if (response.compact_revision() > 0) {
      channel_->end(Status::of(ErrorDetail::kCompacted), response.compact_revision());
    } else {
      channel_->end(Status::failed_precondition("watch: cancelled by the server: " +
                                                response.cancel_reason()));
    }
    if (ending) ending->cancel();
    return false;
  }
  return deliver(std::move(batch));
}

bool RemoteWatch::deliver(WatchBatch batch) {
  while (true) {
    if (channel_->offer(std::move(batch))) return true;
    std::lock_guard lock(mutex_);
    if (!resume_asked_) {
      held_ = std::move(batch);
      return false;
    }
    resume_asked_ = false;  // room was made meanwhile: offer again
  }
}

void RemoteWatch::notice(kv_client::WatchNotice notice) {
  std::shared_ptr<WatchStream> stream;
  std::optional<WatchBatch> held;
  {
    std::lock_guard lock(mutex_);
    stream = stream_;
    if (notice == kv_client::WatchNotice::kCancel) {
      ended_ = true;
    } else if (notice == kv_client::WatchNotice::kResume) {
      if (held_) {
        held = std::move(held_);
        held_.reset();
      } else {
        resume_asked_ = true;
      }
    }
  }
  switch (notice) {
    case kv_client::WatchNotice::kCancel:
      if (stream) stream->cancel();
      break;
    case kv_client::WatchNotice::kProgress:
      if (stream) stream->request_progress();
      break;
    case kv_client::WatchNotice::kResume:
      if (held && deliver(std::move(*held)) && stream) stream->read_on();
      break;
  }
}

void RemoteWatch::on_stream_done(const grpc::Status& status, size_t endpoint) {
  bool reconnect = false;
  {
    std::lock_guard lock(mutex_);
    stream_.reset();
    held_.reset();
    resume_asked_ = false;
    reconnect = !ended_ && !backend_.stopping();
  }
  if (reconnect) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE || status.ok()) {
      backend_.endpoints().failed(endpoint);
    }
    // Resume from next_revision_ after a pause, on the worker's timer.
    auto timer =
        std::make_shared<asio::steady_timer>(backend_.worker(), backend_.options().watch_retry);
    timer->async_wait([self = shared_from_this(), timer](const std::error_code&) {
      if (!self->backend_.stopping()) self->connect();
    });
  }
  backend_.stream_ended();
}

void RemoteWatch::shut(Status why) {
  std::shared_ptr<WatchStream> stream;
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    stream = stream_;
  }
  link_->cut();
  channel_->end(std::move(why));
  if (stream) stream->cancel();
}

}  // namespace dengine::client
