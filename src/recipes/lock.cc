#include "dengine/lock.h"

#include <utility>

#include "recipes/deadline.h"
#include "recipes/key_queue.h"

namespace dengine {

Lock::Lock(Session& session, std::string prefix)
    : session_(&session),
      prefix_(std::move(prefix) + "/"),
      key_(prefix_ + recipes::lease_hex(session.lease())) {}

Result<int64_t> Lock::acquire(WaitOptions options) {
  const recipes::Deadline deadline(session_->clock(), options);
  KvClient& kv = session_->client();
  Result<recipes::QueuePlace> place = recipes::enqueue(kv, prefix_, key_, "", session_->lease());
  if (!place) return place.status().with_context("lock: enqueueing " + key_);
  create_revision_ = place->own.create_revision;
  if (!place->first) {
    // etcd deletes its key when it gives up waiting, so that it blocks nobody behind it.
    auto give_up = [&](const Status& why) {
      (void)kv.erase(key_);  // if this fails too, the key goes with the session's lease
      held_ = false;
      return why.with_context("lock: " + key_ + " waiting for older holders");
    };
    Status waited = recipes::wait_for_deletes(kv, prefix_, create_revision_ - 1, deadline);
    if (!waited) return give_up(waited);
    // The key may have gone with the session's lease while we waited: the turn came, but for a
    // key that no longer exists, and a later session may already hold the lock.
    Result<bool> still_ours = recipes::still_queued(kv, key_, create_revision_);
    if (!still_ours) return give_up(still_ours.status());
    if (!*still_ours) {
      return Status::aborted("lock: " + key_ + " was deleted while it waited (lease " +
                             recipes::lease_hex(session_->lease()) +
                             " expired or was revoked); start a new session");
    }
  }
  held_ = true;
  return create_revision_;
}

Status Lock::release() {
  if (!held_) return Status::failed_precondition("lock: " + key_ + " is not held by this Lock");
  Result<DeleteRangeResponse> deleted = session_->client().erase(key_);
  if (!deleted) return deleted.status().with_context("lock: releasing " + key_);
  held_ = false;
  return Status::ok();
}

Compare Lock::owner_compare() const {
  return recipes::created_at(key_, create_revision_);
}

}  // namespace dengine
