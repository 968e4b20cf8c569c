#include "runtime/watch_hub.h"

#include <algorithm>

#include "common/check.h"

namespace dengine::runtime {
namespace {

void erase_id(std::vector<uint64_t>& ids, uint64_t id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it != ids.end()) ids.erase(it);
}

Status compacted_at(int64_t compact_revision) {
  return Status::of(ErrorDetail::kCompacted, "compacted at " + std::to_string(compact_revision));
}

}  // namespace

WatchHub::WatchHub(const StateMachine& state, UniqueFunction<void(UniqueFunction<void()>)> post)
    : state_(state), post_(std::move(post)) {
  link_ = std::make_shared<WatchHubLink>(
      [this](uint64_t id, WatchNotice notice) { notify(id, notice); });
}

WatchHub::~WatchHub() {
  stop(Status::unavailable("engine stopped"));
}

std::shared_ptr<detail::WatchChannel> WatchHub::open(WatchSpec spec) {
  std::lock_guard lock(mutex_);
  auto channel = std::make_shared<WatchChannelImpl>(next_id_++, spec.options.buffer_events, link_);
  if (stopped_) {
    channel->end(*stopped_);
    return channel;
  }
  pending_.opened.emplace_back(std::move(spec), channel);
  schedule_locked();
  return channel;
}

void WatchHub::notify(uint64_t id, WatchNotice notice) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  pending_.notices.emplace_back(id, notice);
  schedule_locked();
}

void WatchHub::schedule_locked() {
  if (scheduled_) return;
  scheduled_ = true;
  post_([this] { run_pending(); });
}

size_t WatchHub::watch_count() const {
  std::lock_guard lock(mutex_);
  return watches_.size() + pending_.opened.size();
}

// ---- the apply worker's thread ----

void WatchHub::run_pending() {
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    std::swap(pending, pending_);
    scheduled_ = false;
  }
  for (auto& [spec, channel] : pending.opened) add(std::move(spec), std::move(channel));
  for (auto [id, notice] : pending.notices) {
    if (notice == WatchNotice::kCancel) {
      remove(id);
      continue;
    }
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;
    if (notice == WatchNotice::kProgress) {
      // etcd's progressIfSync: only a synced watch has seen every revision up to the store's;
      // in line with its events, a batch without any says so. A full buffer skips this one.
      if (it->second.synced) {
        (void)it->second.channel->offer(
            WatchBatch{.events = {}, .revision = state_.current_revision()});
      }
    } else if (!it->second.synced) {
      make_catching_up(id, it->second, it->second.next_revision);
    }
  }
  // One chunk per watcher per round, so that applies are never held up for long.
  std::vector<uint64_t> behind;
  behind.swap(catching_up_);
  for (uint64_t id : behind) {
    auto it = watches_.find(id);
    if (it == watches_.end() || it->second.synced) continue;
    if (catch_up_step(id, it->second)) catching_up_.push_back(id);
  }
  if (!catching_up_.empty()) {
    std::lock_guard lock(mutex_);
    schedule_locked();
  }
}

void WatchHub::add(WatchSpec spec, std::shared_ptr<WatchChannelImpl> channel) {
  const uint64_t id = channel->id();
  const int64_t start = spec.options.start_revision;
  // etcd: a start below the compacted revision cannot be served.
  if (start > 0 && start < state_.compact_revision()) {
    const int64_t compact = state_.compact_revision();
    channel->end(compacted_at(compact), compact);
    return;
  }
  kv::KeySpan span = kv::KeySpan::of(spec.key, spec.range_end);
  Watcher watcher{.channel = std::move(channel),
                  .spec = std::move(spec),
                  .span = std::move(span),
                  .next_revision = 0,
                  .min_revision = start,
                  .synced = false};
  auto [it, inserted] = watches_.emplace(id, std::move(watcher));
  DENGINE_CHECK(inserted);
  if (start <= 0 || start > state_.current_revision()) {
    make_synced(id, it->second);
  } else {
    make_catching_up(id, it->second, start);
  }
}

void WatchHub::remove(uint64_t id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  if (it->second.synced) unlink_synced(id, it->second);
  erase_id(catching_up_, id);
  watches_.erase(it);
}

void WatchHub::on_state_replaced(int64_t previous_revision) {
  for (auto& [id, watcher] : watches_) {
    if (watcher.synced) make_catching_up(id, watcher, previous_revision + 1);
  }
  std::lock_guard lock(mutex_);
  schedule_locked();
}

void WatchHub::make_synced(uint64_t id, Watcher& watcher) {
  watcher.synced = true;
  if (watcher.span.is_single_key()) {
    synced_keys_[watcher.span.first()].push_back(id);
  } else {
    synced_spans_.push_back(id);
  }
}

void WatchHub::unlink_synced(uint64_t id, const Watcher& watcher) {
  if (!watcher.span.is_single_key()) return erase_id(synced_spans_, id);
  auto it = synced_keys_.find(watcher.span.first());
  if (it == synced_keys_.end()) return;
  erase_id(it->second, id);
  if (it->second.empty()) synced_keys_.erase(it);
}

void WatchHub::make_catching_up(uint64_t id, Watcher& watcher, int64_t next_revision) {
  if (watcher.synced) unlink_synced(id, watcher);
  watcher.synced = false;
  watcher.next_revision = next_revision;
  if (std::find(catching_up_.begin(), catching_up_.end(), id) == catching_up_.end()) {
    catching_up_.push_back(id);
  }
}

void WatchHub::select(const Watcher& watcher, const std::vector<Event>& events,
                      std::vector<Event>& out) {
  for (const Event& event : events) {
    if (event.kv.mod_revision < watcher.min_revision) continue;
    if (!watcher.span.contains(event.kv.key)) continue;
    if (event.type == EventType::kPut && watcher.spec.options.no_put) continue;
    if (event.type == EventType::kDelete && watcher.spec.options.no_delete) continue;
    Event& copy = out.emplace_back(event);
    if (!watcher.spec.options.prev_kv) copy.prev_kv.reset();
  }
}

void WatchHub::publish(int64_t revision, std::vector<Event>& events) {
  if (events.empty() || watches_.empty()) return;
  // Every synced watch that any of these events touches, once each.
  std::vector<uint64_t> touched = synced_spans_;
  for (const Event& event : events) {
    auto it = synced_keys_.find(event.kv.key);
    if (it != synced_keys_.end())
      touched.insert(touched.end(), it->second.begin(), it->second.end());
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (uint64_t id : touched) {
    Watcher& watcher = watches_.at(id);
    WatchBatch batch{.events = {}, .revision = revision};
    select(watcher, events, batch.events);
    if (batch.events.empty()) continue;
    if (!watcher.channel->offer(std::move(batch))) {
      // The consumer is behind: this revision comes again from history once it reads.
      unlink_synced(id, watcher);
      watcher.synced = false;
      watcher.next_revision = revision;
    }
  }
}

void WatchHub::end_and_remove(uint64_t id, Watcher& watcher, Status why, int64_t compact_revision) {
  watcher.channel->end(std::move(why), compact_revision);
  remove(id);
}

bool WatchHub::catch_up_step(uint64_t id, Watcher& watcher) {
  if (!watcher.channel->has_room_for(1)) return false;  // resumed when the consumer reads
  EventQuery query;
  query.key = watcher.spec.key;
  query.range_end = watcher.spec.range_end;
  query.start_revision = watcher.next_revision;
  query.prev_kv = watcher.spec.options.prev_kv;
  query.max_revisions = kCatchUpRevisions;
  Result<EventBatch> history = state_.events(query);
  if (!history) {
    // Compacted while this watch was behind (etcd cancels it the same way).
    if (history.status().is(ErrorDetail::kCompacted)) {
      const int64_t compact = state_.compact_revision();
      end_and_remove(id, watcher, compacted_at(compact), compact);
    } else {
      end_and_remove(id, watcher, history.status());
    }
    return false;
  }
  WatchBatch batch{.events = {}, .revision = history->next_revision - 1};
  select(watcher, history->events, batch.events);
  if (!batch.events.empty() && !watcher.channel->offer(std::move(batch))) return false;
  watcher.next_revision = history->next_revision;
  if (watcher.next_revision > state_.current_revision()) {
    make_synced(id, watcher);
    return false;
  }
  return true;
}

void WatchHub::stop(const Status& why) {
  link_->cut();
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = why;
    std::swap(pending, pending_);
  }
  for (auto& [spec, channel] : pending.opened) channel->end(why);
  for (auto& [id, watcher] : watches_) watcher.channel->end(why);
  watches_.clear();
  synced_keys_.clear();
  synced_spans_.clear();
  catching_up_.clear();
}

}  // namespace dengine::runtime
