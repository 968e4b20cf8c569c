#pragma once

// The shared part of etcd's two-way streams (Watch, LeaseKeepAlive) on gRPC's callback API:
// requests are read one after another and handed to on_request(); responses, which the engine
// produces on its own threads in any number, go out one write at a time, in the order they were
// sent. Work the engine still owes the stream (a renewal, a watch's next batch) is counted, so
// that the stream is deleted only once gRPC is done with it and no such work can call back.
//
// Bounded: a client that stops reading holds at most max_queued responses here; past that,
// send() reports the queue as full and the caller holds back (a watch stops pulling events).

#include <cstddef>
#include <deque>
#include <iterator>
#include <mutex>

#include <grpcpp/support/server_callback.h>

namespace dengine::api {

template <typename Request, typename Response>
class BidiStream : public grpc::ServerBidiReactor<Request, Response> {
 public:
  // Subclasses call start() once constructed.
  void start() { this->StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side: finish once everything owed is sent
      on_client_closed();
      std::lock_guard lock(mutex_);
      reads_done_ = true;
      maybe_finish_locked();
      return;
    }
    on_request(request_);
    std::lock_guard lock(mutex_);
    if (!finished_) this->StartRead(&request_);  // no reads once the stream has finished
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mutex_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      // The client is gone; gRPC cancels the call and OnCancel finishes it.
      queue_.clear();
      return;
    }
    write_next_locked();
    maybe_finish_locked();
    lock.unlock();
    on_queue_drained();
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    // The response being written belongs to gRPC until OnWriteDone: drop only the others.
    queue_.erase(writing_ ? std::next(queue_.begin()) : queue_.begin(), queue_.end());
    finish_locked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    on_stream_done();
    std::unique_lock lock(mutex_);
    done_ = true;
    if (owed_ != 0) return;  // the last owed completion deletes the stream
    lock.unlock();
    delete this;
  }

 protected:
  explicit BidiStream(size_t max_queued) : max_queued_(max_queued) {}

  virtual void on_request(const Request& request) = 0;
  // After a write completed and the queue shrank (without the lock).
  virtual void on_queue_drained() {}
  // gRPC is done with the stream (nothing more can be sent): cancel what the engine owes.
  virtual void on_stream_done() {}
  // The client will send nothing more (etcd then ends the stream once its answers are out).
  virtual void on_client_closed() {}

  // Counts work the engine will complete later; each owe() must be matched by one repaid().
  void owe() {
    std::lock_guard lock(mutex_);
    ++owed_;
  }
  void owe_locked() { ++owed_; }
  // The owed work completed: the last thing its completion does with the stream, which may be
  // deleted here (while work is owed, it never is).
  void repaid() {
    std::unique_lock lock(mutex_);
    --owed_;
    if (!done_) return maybe_finish_locked();
    if (owed_ != 0) return;
    lock.unlock();
    delete this;
  }

  // Queues a response. False when the stream has finished (dropped) or the queue is full
  // (queued anyway: the caller should stop producing until on_queue_drained()).
  bool send(Response response) {
    std::lock_guard lock(mutex_);
    return send_locked(std::move(response));
  }
  bool send_locked(Response response) {
    if (finished_) return false;
    queue_.push_back(std::move(response));
    write_next_locked();
    return queue_.size() < max_queued_;
  }
  [[nodiscard]] bool queue_has_room_locked() const { return queue_.size() < max_queued_; }

  // Ends the stream with `status` once what is queued has been written.
  void finish_after_writes(grpc::Status status) {
    std::lock_guard lock(mutex_);
    pending_status_ = std::move(status);
    reads_done_ = true;
    maybe_finish_locked();
  }

  std::mutex mutex_;

 private:
  void write_next_locked() {
    if (writing_ || queue_.empty() || finished_) return;
    writing_ = true;
    this->StartWrite(&queue_.front());
  }
  void maybe_finish_locked() {
    if (reads_done_ && owed_ == 0 && queue_.empty() && !writing_) finish_locked(pending_status_);
  }
  void finish_locked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    this->Finish(std::move(status));
  }

  const size_t max_queued_;
  Request request_;
  std::deque<Response> queue_;  // front: being written while writing_
  grpc::Status pending_status_ = grpc::Status::OK;
  size_t owed_ = 0;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
  bool done_ = false;
};

}  // namespace dengine::api
