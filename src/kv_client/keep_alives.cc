#include "kv_client/keep_alives.h"

#include <algorithm>

namespace dengine::kv_client {

Status KeepAliveTicketImpl::status() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

void KeepAliveTicketImpl::lose(Status why) {
  std::lock_guard lock(mutex_);
  if (lost_.is_ok()) lost_ = std::move(why);
}

uint64_t KeepAlives::next_due(uint64_t now, int64_t granted_ttl_seconds) {
  // etcd's client renews every third of the TTL.
  const auto ttl_nanos =
      static_cast<uint64_t>(std::max<int64_t>(granted_ttl_seconds, 0)) * 1'000'000'000ULL;
  return now + std::max<uint64_t>(ttl_nanos / 3, 1);
}

void KeepAlives::add(std::shared_ptr<KeepAliveTicketImpl> ticket, uint64_t due) {
  std::lock_guard lock(mutex_);
  if (stopped_) return ticket->lose(*stopped_);
  added_.push_back(Scheduled{std::move(ticket), due});
}

KeepAlives::RenewDone KeepAlives::follow_up(KeepAlives& self,
                                            std::shared_ptr<KeepAliveTicketImpl> ticket,
                                            uint64_t sent) {
  return [&self, ticket = std::move(ticket), sent](Result<LeaseKeepAliveResponse> renewed) mutable {
    if (renewed) {
      ticket->renewed();
      return self.add(std::move(ticket), next_due(sent, renewed->ttl_seconds));
    }
    const StatusCode code = renewed.status().code();
    if (code == StatusCode::kNotLeader || code == StatusCode::kUnavailable ||
        code == StatusCode::kTimedOut) {
      // No leader keeping time yet, or none answering: try again a little later.
      return self.add(std::move(ticket), sent + self.retry_nanos_);
    }
    ticket->lose(renewed.status());
  };
}

void KeepAlives::run(uint64_t now, Renew& renew) {
  {
    std::lock_guard lock(mutex_);
    for (Scheduled& added : added_) scheduled_.push_back(std::move(added));
    added_.clear();
  }
  std::vector<std::shared_ptr<KeepAliveTicketImpl>> due;
  std::erase_if(scheduled_, [&](Scheduled& scheduled) {
    if (scheduled.ticket->stopped()) return true;
    if (scheduled.due > now) return false;
    due.push_back(std::move(scheduled.ticket));
    return true;
  });
  // Outside the loop: an answer given at once comes back through add() meanwhile.
  for (std::shared_ptr<KeepAliveTicketImpl>& ticket : due) {
    const LeaseId id = ticket->id();
    renew(id, follow_up(*this, std::move(ticket), now));
  }
}

void KeepAlives::stop(const Status& why) {
  std::lock_guard lock(mutex_);
  stopped_ = why;
  for (Scheduled& scheduled : scheduled_) scheduled.ticket->lose(why);
  for (Scheduled& added : added_) added.ticket->lose(why);
  scheduled_.clear();
  added_.clear();
}

}  // namespace dengine::kv_client
