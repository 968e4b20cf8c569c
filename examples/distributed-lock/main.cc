// Two workers, each with its own session, take turns holding one distributed lock. A holder
// writes only through a txn guarded by the lock, so a write from a holder that lost the lock
// (its session expired while it was paused) is refused. The fencing token grows with every
// new holder.

#include <chrono>
#include <future>
#include <iostream>
#include <string>

#include <dengine/embedded_engine.h>
#include <dengine/lock.h>
#include <dengine/session.h>

namespace {

// Puts `value` at `key` only while `lock` is still held.
dengine::Status fenced_put(dengine::KvClient& kv, const dengine::Lock& lock, std::string key,
                           std::string value) {
  dengine::PutRequest put;
  put.key = std::move(key);
  put.value = std::move(value);
  dengine::TxnRequest txn;
  txn.compare.push_back(lock.owner_compare());
  txn.success.push_back(dengine::RequestOp{put});
  auto written = kv.txn(std::move(txn));
  if (!written) return written.status();
  if (!written->succeeded) return dengine::Status::aborted("lost the lock before writing");
  return dengine::Status::ok();
}

dengine::Status work(dengine::KvClient& kv, const std::string& name) {
  auto session = dengine::Session::create(kv, {.ttl = std::chrono::seconds(10)});
  if (!session) return session.status();
  dengine::Lock lock(**session, "locks/nightly-report");
  for (int round = 1; round <= 3; ++round) {
    auto token = lock.acquire({.timeout = std::chrono::seconds(10)});
    if (!token) return token.status();
    std::cout << name + " holds the lock (fencing token " + std::to_string(*token) + ")\n";
    auto written =
        fenced_put(kv, lock, "reports/nightly", name + ", round " + std::to_string(round));
    if (!written) return written;
    if (auto released = lock.release(); !released) return released;
  }
  return (*session)->close();  // revokes the lease: nothing of this worker stays behind
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data_dir = argc > 1 ? argv[1] : "./dengine-data-distributed-lock";
  auto started = dengine::EmbeddedEngine::start(data_dir);
  if (!started) {
    std::cerr << "start failed: " << started.status().message() << "\n";
    return 1;
  }
  dengine::EmbeddedEngine& engine = **started;
  if (auto ready = engine.wait_ready(std::chrono::seconds(5)); !ready) {
    std::cerr << "not ready: " << ready.message() << "\n";
    return 1;
  }
  dengine::KvClient& kv = engine.client();

  auto alice = std::async(std::launch::async, work, std::ref(kv), "alice");
  auto bob = std::async(std::launch::async, work, std::ref(kv), "bob");
  bool all_done = true;
  for (auto* worker : {&alice, &bob}) {
    if (dengine::Status done = worker->get(); !done) {
      std::cerr << "a worker failed: " << done.to_string() << "\n";
      all_done = false;
    }
  }
  if (auto last = kv.get("reports/nightly"); last && last->has_value()) {
    std::cout << "last report by " << (*last)->value << "\n";
  }
  return engine.stop() && all_done ? 0 : 1;
}
