#include "runtime/keep_alives.h"

#include <algorithm>

namespace dengine::runtime {

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

void KeepAlives::run(uint64_t now, Renew& renew) {
  {
    std::lock_guard lock(mutex_);
    for (Scheduled& added : added_) scheduled_.push_back(std::move(added));
    added_.clear();
  }
  std::erase_if(scheduled_, [&](Scheduled& scheduled) {
    KeepAliveTicketImpl& ticket = *scheduled.ticket;
    if (ticket.stopped()) return true;
    if (scheduled.due > now) return false;
    Result<LeaseTimeLeft> renewed = renew(ticket.id());
    if (renewed) {
      ticket.renewed();
      scheduled.due = next_due(now, renewed->granted_ttl_seconds);
      return false;
    }
    if (renewed.status().code() == StatusCode::kNotLeader ||
        renewed.status().code() == StatusCode::kUnavailable) {
      return false;  // no leader keeping time here yet: the next round tries again
    }
    ticket.lose(renewed.status());
    return true;
  });
}

void KeepAlives::stop(const Status& why) {
  std::lock_guard lock(mutex_);
  stopped_ = why;
  for (Scheduled& scheduled : scheduled_) scheduled.ticket->lose(why);
  for (Scheduled& added : added_) added.ticket->lose(why);
  scheduled_.clear();
  added_.clear();
}

}  // namespace dengine::runtime
