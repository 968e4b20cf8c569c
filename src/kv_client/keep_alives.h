#pragma once

// Automatic keep-alives (etcd clientv3's KeepAlive): each registered lease is renewed every
// third of its TTL until its handle is stopped or the lease is lost. Whoever owns the schedule
// drives it on its clock: the engine's core thread (so tests run it on a manual clock), or the
// remote client's keep-alive thread. Knows nothing of the engine or the network.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "dengine/kv_client.h"
#include "dengine/unique_function.h"

namespace dengine::kv_client {

class KeepAliveTicketImpl final : public detail::KeepAliveTicket {
 public:
  explicit KeepAliveTicketImpl(LeaseId id) : id_(id) {}

  void stop() override { stopped_.store(true, std::memory_order_release); }
  [[nodiscard]] Status status() const override;
  [[nodiscard]] int64_t renewals() const override {
    return renewals_.load(std::memory_order_acquire);
  }

  [[nodiscard]] LeaseId id() const { return id_; }
  [[nodiscard]] bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  void renewed() { renewals_.fetch_add(1, std::memory_order_acq_rel); }
  // The lease is gone: the handle reports `why` and renewals end.
  void lose(Status why);

 private:
  const LeaseId id_;
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> renewals_{0};
  mutable std::mutex mutex_;
  Status lost_;
};

class KeepAlives {
 public:
  // A renewal's answer (on any thread): the lease's granted TTL, or why not (kNotLeader,
  // kUnavailable, kTimedOut: try again later; anything else loses the lease).
  using RenewDone = UniqueFunction<void(Result<LeaseKeepAliveResponse>)>;
  // A renewal attempt.
  using Renew = UniqueFunction<void(LeaseId, RenewDone)>;

  // Any thread: renews `ticket`'s lease from `due` on; after stop() the ticket is lost at once.
  void add(std::shared_ptr<KeepAliveTicketImpl> ticket, uint64_t due);
  // When the next renewal is due after one at `now` that found `granted_ttl_seconds`.
  static uint64_t next_due(uint64_t now, int64_t granted_ttl_seconds);
  // What to do with the answer to a renewal of `ticket` sent at `sent`: schedule the next
  // one, retry at the next round (no leader keeping time yet), or lose the ticket.
  static RenewDone follow_up(KeepAlives& self, std::shared_ptr<KeepAliveTicketImpl> ticket,
                             uint64_t sent);
  // How long after a renewal that found no leader (or no answer) the next attempt is made.
  void set_retry_interval(uint64_t nanos) { retry_nanos_ = nanos; }
  // The core thread: renews what is due at `now`. A ticket is out of the schedule while its
  // renewal is on its way (a follower asks the leader) and comes back with the answer.
  void run(uint64_t now, Renew& renew);
  // Ends every keep-alive with `why`.
  void stop(const Status& why);

 private:
  struct Scheduled {
    std::shared_ptr<KeepAliveTicketImpl> ticket;
    uint64_t due = 0;
  };

  uint64_t retry_nanos_ = 100'000'000;
  std::mutex mutex_;
  std::vector<Scheduled> added_;
  std::optional<Status> stopped_;
  // The core thread only.
  std::vector<Scheduled> scheduled_;
};

}  // namespace dengine::kv_client
