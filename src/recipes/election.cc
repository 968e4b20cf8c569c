#include "dengine/election.h"

#include <utility>

#include "recipes/deadline.h"
#include "recipes/key_queue.h"

namespace dengine {

Election::Election(Session& session, std::string prefix)
    : session_(&session),
      prefix_(std::move(prefix) + "/"),
      key_(prefix_ + recipes::lease_hex(session.lease())) {}

Status Election::campaign(std::string value, WaitOptions options) {
  const recipes::Deadline deadline(session_->clock(), options);
  KvClient& kv = session_->client();
  leading_ = false;
  Result<recipes::QueuePlace> place = recipes::enqueue(kv, prefix_, key_, value, session_->lease());
  if (!place) return place.status().with_context("election: enqueueing " + key_);
  create_revision_ = place->own.create_revision;
  if (!place->created && place->own.value != value) {
    Result<bool> updated = update_value(value);
    if (!updated || !*updated) {
      (void)resign();
      return updated ? Status::aborted("election: " + key_ + " vanished while campaigning")
                     : updated.status().with_context("election: updating " + key_);
    }
  }
  if (!place->first) {
    Status waited = recipes::wait_for_deletes(kv, prefix_, create_revision_ - 1, deadline);
    if (!waited) {
      // As etcd: a caller that gave up withdraws; after an engine error the key stays in line
      // (the engine may not take a delete either) and goes with the session.
      const bool gave_up =
          waited.code() == StatusCode::kTimedOut || waited.code() == StatusCode::kCancelled;
      if (gave_up) {
        (void)resign();
      } else {
        forget();
      }
      return waited.with_context("election: " + key_ + " waiting for older candidates");
    }
    // The key may have gone with the session's lease while we waited (etcd 3.5's Mutex check,
    // which etcd's Campaign lacks): then another candidate may lead already.
    Result<bool> still_ours = recipes::still_queued(kv, key_, create_revision_);
    if (!still_ours || !*still_ours) {
      forget();
      if (!still_ours) return still_ours.status().with_context("election: " + key_);
      return Status::aborted("election: " + key_ + " was deleted while it waited (lease " +
                             recipes::lease_hex(session_->lease()) +
                             " expired or was revoked); start a new session");
    }
  }
  leading_ = true;
  return Status::ok();
}

Status Election::proclaim(std::string value) {
  if (!leading_) return Status::failed_precondition("election: " + key_ + " does not lead");
  Result<bool> updated = update_value(value);
  if (!updated) return updated.status().with_context("election: proclaiming " + key_);
  if (!*updated) {
    forget();
    return Status::failed_precondition("election: " + key_ +
                                       " no longer leads: its key was deleted (resigned, or the "
                                       "session's lease expired or was revoked)");
  }
  return Status::ok();
}

Status Election::resign() {
  if (create_revision_ == 0) return Status::ok();
  TxnRequest txn;
  txn.compare.push_back(recipes::created_at(key_, create_revision_));
  DeleteRangeRequest erase;
  erase.key = key_;
  txn.success.push_back(RequestOp{std::move(erase)});
  forget();
  Result<TxnResponse> resigned = session_->client().txn(std::move(txn));
  if (!resigned) return resigned.status().with_context("election: resigning " + key_);
  return Status::ok();
}

Result<KeyValue> Election::leader() {
  Result<RangeResponse> oldest = session_->client().range(recipes::first_created(prefix_));
  if (!oldest) return oldest.status().with_context("election: reading the leader");
  if (oldest->kvs.empty()) return Status::not_found("election: no leader under " + prefix_);
  return std::move(oldest->kvs.front());
}

ElectionObserver Election::observe() {
  return {session_->client(), prefix_, session_->clock()};
}

Result<bool> Election::update_value(const std::string& value) {
  TxnRequest txn;
  txn.compare.push_back(recipes::created_at(key_, create_revision_));
  PutRequest put;
  put.key = key_;
  put.value = value;
  put.lease = session_->lease();
  txn.success.push_back(RequestOp{std::move(put)});
  Result<TxnResponse> response = session_->client().txn(std::move(txn));
  if (!response) return response.status();
  return response->succeeded;
}

void Election::forget() {
  leading_ = false;
  create_revision_ = 0;
}

}  // namespace dengine
