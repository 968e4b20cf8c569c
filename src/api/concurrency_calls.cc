#include "api/concurrency_calls.h"

#include <string>
#include <utility>

#include "api/etcd_status.h"

namespace dengine::api {
namespace {

// etcd's ErrGRPCStopped.
constexpr const char* kServerStopped = "etcdserver: server stopped";

}  // namespace

WaitingCalls::~WaitingCalls() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [id, worker] : running_) {
      worker.stop.request_stop();
      threads.push_back(std::move(worker.thread));
    }
    running_.clear();
    if (last_retired_.joinable()) threads.push_back(std::move(last_retired_));
  }
  for (std::thread& thread : threads) thread.join();
}

Status WaitingCalls::run(std::stop_source stop, std::function<void(std::stop_token)> work) {
  std::lock_guard lock(mutex_);
  if (stopped_) return Status::unavailable("server stopped");
  if (running_.size() >= max_calls_) {
    return Status::resource_exhausted("api: " + std::to_string(max_calls_) +
                                      " lock, election and observe calls are already waiting");
  }
  const uint64_t id = next_id_++;
  // The worker cannot retire before it is registered: retire() waits for this lock.
  std::thread thread([this, id, token = stop.get_token(), work = std::move(work)] {
    work(token);
    retire(id);
  });
  running_.emplace(id, Worker{.thread = std::move(thread), .stop = std::move(stop)});
  return Status::ok();
}

void WaitingCalls::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (auto& [id, worker] : running_) worker.stop.request_stop();
}

void WaitingCalls::retire(uint64_t id) {
  std::thread previous;
  {
    std::lock_guard lock(mutex_);
    auto worker = running_.find(id);
    if (worker == running_.end()) return;  // the destructor took the thread to join it
    previous = std::exchange(last_retired_, std::move(worker->second.thread));
    running_.erase(worker);
  }
  if (previous.joinable()) previous.join();  // it has retired: at most returning
}

grpc::ServerUnaryReactor* WaitingUnaryCall::start(
    WaitingCalls& calls, std::function<grpc::Status(std::stop_token)> answer) {
  auto* call = new WaitingUnaryCall();
  Status started = calls.run(call->stop_, [call, answer = std::move(answer)](std::stop_token stop) {
    call->Finish(answer(std::move(stop)));  // gRPC may delete the call from here on
  });
  if (!started) call->Finish(to_grpc_status(started));
  return call;
}

grpc::Status concurrency_error(const Status& status) {
  if (status.code() == StatusCode::kCancelled) {
    return {grpc::StatusCode::UNAVAILABLE, kServerStopped};
  }
  return concurrency_error(to_grpc_status(status).error_message());
}

grpc::Status concurrency_error(std::string text) {
  return {grpc::StatusCode::UNKNOWN, std::move(text)};
}

}  // namespace dengine::api
