#include "log/segmented_wal.h"

#include <algorithm>

#include "common/check.h"
#include "log/append_checks.h"
#include "log/posix_file_system.h"
#include "log/record.h"
#include "log/recovery.h"

namespace dengine::log {
namespace {

constexpr uint64_t kMinSegmentBytes = 4096;
constexpr uint64_t kMaxSegmentBytes = 1ULL << 30;  // record offsets are 32-bit
// Every segment keeps room for its seal record.
constexpr size_t kSealReserve = framed_record_bytes(kIndexPayloadBytes);
// Appends encode into a buffer that the next sync writes with one pwrite; past this many bytes
// an append writes it at once, so a long run of appends without a sync stays in bounded memory.
constexpr size_t kWriteBehindBytes = 256 * 1024;

Status with_context(const std::string& context, const Status& cause) {
  return {cause.code(), "wal: " + context + ": " + cause.message(), cause.detail()};
}

}  // namespace

SegmentedWal::SegmentedWal(std::shared_ptr<FileSystem> fs, std::string wal_dir,
                           const WalOptions& options)
    : fs_(std::move(fs)), wal_dir_(std::move(wal_dir)), options_(options) {}

SegmentedWal::~SegmentedWal() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  flusher_wakeup_.notify_one();
  if (flusher_.joinable()) flusher_.join();
  // Not durable, nor promised to be; written so that a clean exit loses nothing appended.
  std::lock_guard lock(mu_);
  if (failed_.is_ok()) static_cast<void>(flush());
}

Result<SegmentedWal::Opened> SegmentedWal::open(std::shared_ptr<FileSystem> fs,
                                                const std::string& data_dir,
                                                const WalOptions& options) {
  if (options.segment_bytes < kMinSegmentBytes || options.segment_bytes > kMaxSegmentBytes) {
    return Status::invalid_argument("wal: segment_bytes must be between 4 KiB and 1 GiB, not " +
                                    std::to_string(options.segment_bytes));
  }
  // A new directory is durable only once its parent is synced. The data dir is synced every
  // time: a crash may have come right after an earlier start created wal/.
  Result<bool> created = fs->create_dir(data_dir);
  if (!created) return with_context("creating " + data_dir, created.status());
  if (*created) {
    if (Status st = fs->sync_dir(parent_dir(data_dir)); !st) {
      return with_context("fsync of the parent of " + data_dir, st);
    }
  }
  created = fs->create_dir(join_path(data_dir, "wal"));
  if (!created) return with_context("creating the wal dir in " + data_dir, created.status());
  if (Status st = fs->sync_dir(data_dir); !st) return with_context("fsync of " + data_dir, st);
  std::unique_ptr<SegmentedWal> wal(new SegmentedWal(fs, join_path(data_dir, "wal"), options));
  Result<WalReplay> replayed = replay_wal(*fs, wal->wal_dir_);
  if (!replayed) return replayed.status();
  WalReplay& replay = *replayed;
  RecoveredLog recovered;
  // After a process crash (not a power cut) what recovery just read may exist only in the page
  // cache, and the caller treats every recovered entry as durable (Raft acknowledges them). So
  // make it durable before returning, the directory first: a crash may have come between a
  // segment's rename and the directory's fsync, and the segment that supersedes others must
  // be durable before they are deleted below.
  if (Status st = fs->sync_dir(wal->wal_dir_); !st) return with_context("fsync of the wal dir", st);

  for (const std::string& name : replay.temp_files) {
    if (Status st = fs->remove(join_path(wal->wal_dir_, name)); !st) {
      return with_context("removing " + name, st);
    }
    recovered.repairs.push_back("wal: removed " + name + " (an interrupted segment creation)");
  }

  std::vector<Segment*> by_position(replay.segments.size(), nullptr);
  for (size_t i = 0; i < replay.segments.size(); ++i) {
    const ReplayedSegment& info = replay.segments[i];
    const std::string path = join_path(wal->wal_dir_, info.file_name);
    if (info.skipped) {
      if (Status st = fs->remove(path); !st) return with_context("removing " + path, st);
      recovered.repairs.push_back("wal: removed " + info.file_name +
                                  " (superseded by a truncation before a crash)");
      continue;
    }
    auto segment = std::make_shared<Segment>();
    segment->file_name = info.file_name;
    segment->header = info.header;
    Result<std::unique_ptr<File>> file = fs->open(path, info.end_offset);
    if (!file) return with_context("opening " + path, file.status());
    segment->file = std::move(*file);
    segment->capacity = std::max(info.file_bytes, options.segment_bytes);
    segment->write_offset = info.end_offset;
    segment->synced_offset = info.end_offset;
    segment->sealed = info.sealed;
    segment->surviving_entries = info.surviving_entries;
    wal->next_seq_ = std::max(wal->next_seq_, info.header.seq + 1);
    by_position[i] = segment.get();
    wal->segments_.push_back(std::move(segment));
  }

  if (replay.torn_tail) {
    // Zero everything after the last good record, so that bytes of the torn write can never
    // line up behind records written from now on and pass for them.
    Segment& last = *wal->segments_.back();
    const TornTail& torn = *replay.torn_tail;
    Status st = last.file->truncate(torn.offset);
    if (st) st = last.file->preallocate(last.capacity);
    if (st) st = last.file->sync();
    if (!st) return with_context("truncating the torn tail of " + last.file_name, st);
    recovered.repairs.push_back("wal: truncated the torn tail of segment " + last.file_name +
                                " at offset " + std::to_string(torn.offset) + " (" +
                                std::to_string(torn.damaged_bytes) +
                                " bytes discarded: " + torn.problem + ")");
  } else if (!wal->segments_.empty()) {
    // Sealed segments were synced before their successor was created; only the last one can
    // hold unsynced bytes.
    Segment& last = *wal->segments_.back();
    Status st = last.sealed ? Status::ok() : last.file->preallocate(last.capacity);
    if (st) st = last.file->sync();
    if (!st) return with_context("fdatasync of segment " + last.file_name, st);
  }

  wal->first_index_ = replay.first_index;
  wal->prev_term_ = replay.prev_term;
  wal->hard_state_ = replay.hard_state;
  recovered.entries.reserve(replay.entries.size());
  for (ReplayedEntry& replayed_entry : replay.entries) {
    const Entry& entry = replayed_entry.entry;
    wal->locations_.push_back(Location{entry.term, by_position[replayed_entry.segment],
                                       replayed_entry.offset,
                                       static_cast<uint32_t>(entry.data.size())});
    recovered.entries.push_back(std::move(replayed_entry.entry));
  }

  std::lock_guard lock(wal->mu_);
  if (!recovered.repairs.empty()) {  // the removals above
    if (Status st = fs->sync_dir(wal->wal_dir_); !st) {
      return with_context("fsync of the wal dir", st);
    }
  }
  if (wal->segments_.empty()) {
    Result<std::shared_ptr<Segment>> first = wal->create_segment(wal->first_index_, 0, 0);
    if (!first) return first.status();
    wal->segments_.push_back(std::move(*first));
  } else if (Status st = wal->remove_dead_segments(); !st) {
    return st;
  }
  recovered.hard_state = wal->hard_state_;
  recovered.first_index = wal->first_index_;
  recovered.prev_term = wal->prev_term_;
  return Opened{std::move(wal), std::move(recovered)};
}

// ---------------------------------------------------------------------------------------
// Appending

Status SegmentedWal::append(std::span<const Entry> entries,
                            const std::optional<HardState>& hard_state) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (Status st = validate_append(entries, hard_state); !st) return st;
  ++stats_.appends;
  if (Status st = append_locked(entries, hard_state); !st) return fail(st);
  return Status::ok();
}

Status SegmentedWal::validate_append(std::span<const Entry> entries,
                                     const std::optional<HardState>& hard_state) const {
  if (Status st = check_append("wal", first_index_, last_index_locked(), hard_state_.commit,
                               entries, hard_state);
      !st) {
    return st;
  }
  for (const Entry& entry : entries) {
    if (framed_entry_bytes(entry.data.size()) + kSegmentInitialBytes + kSealReserve >
        options_.segment_bytes) {
      return Status::invalid_argument("wal: entry " + std::to_string(entry.index) + " of " +
                                      std::to_string(entry.data.size()) +
                                      " bytes does not fit in a segment of " +
                                      std::to_string(options_.segment_bytes) + " bytes");
    }
  }
  return Status::ok();
}

Status SegmentedWal::append_locked(std::span<const Entry> entries,
                                   const std::optional<HardState>& hard_state) {
  if (!entries.empty() && entries.front().index <= last_index_locked()) {
    const Index first = entries.front().index;
    const Segment& segment = active();
    const bool fits = !segment.sealed && first >= segment.header.first_index &&
                      segment.write_offset + pending_.size() +
                              framed_record_bytes(kIndexPayloadBytes) + kSealReserve <=
                          segment.capacity;
    if (fits) {
      append_index_record(pending_, segment.header.salt, record_synced_offset(),
                          RecordType::kTruncate, first);
      truncate_after(first - 1);
    } else if (Status st = roll(first); !st) {
      // The truncation reaches before this segment: a new segment named `first` implies it.
      return st;
    }
  }
  for (const Entry& entry : entries) {
    if (Status st = ensure_room(framed_entry_bytes(entry.data.size())); !st) return st;
    Segment& segment = active();
    const uint64_t offset = segment.write_offset + pending_.size();
    append_entry_record(pending_, segment.header.salt, record_synced_offset(), entry);
    locations_.push_back(Location{entry.term, &segment, static_cast<uint32_t>(offset),
                                  static_cast<uint32_t>(entry.data.size())});
    ++segment.surviving_entries;
  }
  if (hard_state) {
    if (Status st = ensure_room(framed_record_bytes(kHardStatePayloadBytes)); !st) return st;
    append_hard_state_record(pending_, active().header.salt, record_synced_offset(), *hard_state);
    hard_state_ = *hard_state;
  }
  return pending_.size() >= kWriteBehindBytes ? flush() : Status::ok();
}

uint32_t SegmentedWal::record_synced_offset() const {
  return static_cast<uint32_t>(active().synced_offset);
}

Status SegmentedWal::ensure_room(size_t framed_bytes) {
  const Segment& segment = active();
  if (!segment.sealed &&
      segment.write_offset + pending_.size() + framed_bytes + kSealReserve <= segment.capacity) {
    return Status::ok();
  }
  if (Status st = flush(); !st) return st;
  return roll(last_index_locked() + 1);
}

Status SegmentedWal::flush() {
  if (pending_.empty()) return Status::ok();
  Segment& segment = active();
  DENGINE_CHECK(segment.file->position() == segment.write_offset);
  if (Status st = segment.file->append(pending_); !st) {
    return with_context("writing " + std::to_string(pending_.size()) + " bytes to segment " +
                            segment.file_name + " at offset " +
                            std::to_string(segment.write_offset),
                        st);
  }
  segment.write_offset += pending_.size();
  written_bytes_ += pending_.size();
  stats_.bytes_written += pending_.size();
  pending_.clear();
  return Status::ok();
}

// ---------------------------------------------------------------------------------------
// Segments

Status SegmentedWal::seal_active() {
  Segment& segment = active();
  if (segment.sealed) return Status::ok();
  append_index_record(pending_, segment.header.salt, record_synced_offset(), RecordType::kSeal,
                      last_index_locked());
  if (Status st = flush(); !st) return st;
  // The next segment is only created once this one is complete on disk: recovery treats any
  // damage in a segment that has a successor as corruption.
  if (Status st = segment.file->sync(); !st) {
    return with_context("fdatasync of segment " + segment.file_name, st);
  }
  ++stats_.fdatasyncs;
  segment.sealed = true;
  segment.synced_offset = segment.write_offset;
  synced_bytes_ = written_bytes_;  // every other segment was synced when it was sealed
  complete_waiters(take_finished_waiters(), failed_);
  return Status::ok();
}

Status SegmentedWal::roll(Index first_index) {
  DENGINE_CHECK(first_index >= first_index_ && first_index <= last_index_locked() + 1);
  if (Status st = seal_active(); !st) return st;
  const Term prev_term = term_locked(first_index - 1);
  truncate_after(first_index - 1);
  return start_segment(first_index, prev_term, 0);
}

// With the active segment sealed: creates the next one and deletes the segments it leaves
// without entries.
Status SegmentedWal::start_segment(Index first_index, Term prev_term, uint32_t flags) {
  Result<std::shared_ptr<Segment>> created = create_segment(first_index, prev_term, flags);
  if (!created) return created.status();
  // A segment of the same name had no entries left: the rename replaced it.
  for (auto it = segments_.begin(); it != segments_.end(); ++it) {
    if ((*it)->file_name == (*created)->file_name) {
      DENGINE_CHECK((*it)->surviving_entries == 0);
      segments_.erase(it);
      break;
    }
  }
  segments_.push_back(std::move(*created));
  // Only now that the new segment is durable: before, the superseded ones still held the
  // latest hard state.
  return remove_dead_segments();
}

Result<std::shared_ptr<SegmentedWal::Segment>> SegmentedWal::create_segment(Index first_index,
                                                                            Term prev_term,
                                                                            uint32_t flags) {
  auto segment = std::make_shared<Segment>();
  segment->header.seq = next_seq_++;
  segment->header.first_index = first_index;
  segment->header.prev_term = prev_term;
  segment->header.salt = segment_salt(segment->header.seq);
  segment->header.flags = flags;
  segment->file_name = segment_file_name(first_index);
  segment->capacity = options_.segment_bytes;
  const std::string path = join_path(wal_dir_, segment->file_name);
  const std::string temp_path = path + std::string(kTempSuffix);
  std::string initial = encode_segment_header(segment->header);
  append_hard_state_record(initial, segment->header.salt, 0, hard_state_);
  DENGINE_CHECK(initial.size() == kSegmentInitialBytes);

  auto step = [&](const char* what, const Status& st) {
    return st ? st : with_context(std::string(what) + " segment " + segment->file_name, st);
  };
  Result<std::unique_ptr<File>> temp = fs_->create(temp_path);
  if (!temp) return step("creating", temp.status());
  if (Status st = step("preallocating", (*temp)->preallocate(segment->capacity)); !st) return st;
  if (Status st = step("writing the header of", (*temp)->append(initial)); !st) return st;
  if (Status st = step("fdatasync of", (*temp)->sync()); !st) return st;
  ++stats_.fdatasyncs;
  if (Status st = step("renaming", fs_->rename(temp_path, path)); !st) return st;
  if (Status st = step("fsync of the wal dir for", fs_->sync_dir(wal_dir_)); !st) return st;
  // Reopened under its final name, so later errors name the right file.
  Result<std::unique_ptr<File>> file = fs_->open(path, initial.size());
  if (!file) return step("reopening", file.status());
  segment->file = std::move(*file);
  segment->write_offset = initial.size();
  segment->synced_offset = initial.size();
  written_bytes_ += initial.size();
  synced_bytes_ = written_bytes_;
  stats_.bytes_written += initial.size();
  ++stats_.segments_created;
  return segment;
}

// Deletes the segments, other than the one being written, that no longer hold any entry of
// the log: a newer segment superseded them, and their hard states are older than its.
Status SegmentedWal::remove_dead_segments() {
  bool removed = false;
  for (auto it = segments_.begin(); it + 1 < segments_.end();) {
    if ((*it)->surviving_entries != 0) {
      ++it;
      continue;
    }
    const std::string path = join_path(wal_dir_, (*it)->file_name);
    if (Status st = fs_->remove(path); !st) return with_context("removing " + path, st);
    it = segments_.erase(it);
    removed = true;
  }
  if (!removed) return Status::ok();
  if (Status st = fs_->sync_dir(wal_dir_); !st) return with_context("fsync of the wal dir", st);
  return Status::ok();
}

void SegmentedWal::truncate_after(Index index) {
  while (!locations_.empty() && last_index_locked() > index) {
    --locations_.back().segment->surviving_entries;
    locations_.pop_back();
  }
}

Status SegmentedWal::fail(const Status& cause) {
  if (failed_.is_ok()) {
    failed_ = Status::io_error(cause.message() +
                               " (the WAL has stopped; restart to recover from what is on disk)");
  }
  pending_.clear();
  complete_waiters(take_finished_waiters(), failed_);
  return failed_;
}

// ---------------------------------------------------------------------------------------
// Group commit

Status SegmentedWal::sync() {
  std::unique_lock lock(mu_);
  ++stats_.sync_calls;
  if (!failed_.is_ok()) return failed_;
  if (Status st = flush(); !st) return fail(st);
  const uint64_t target = written_bytes_;
  if (synced_bytes_ >= target) return Status::ok();
  if (sync_in_progress_) {
    // A sync is running; it may not cover our bytes. Wait without the lock until a sync that
    // covers them ends, or until the lead is handed to us.
    auto waiter = std::make_shared<SyncWaiter>(target);
    sync_waiters_.push_back(waiter);
    lock.unlock();
    if (!waiter->wait()) return waiter->result;
    lock.lock();
  }
  sync_in_progress_ = true;
  return lead_sync(lock, target);
}

void SegmentedWal::sync_async(SyncDone done) {
  std::unique_lock lock(mu_);
  ++stats_.async_syncs;
  if (!failed_.is_ok() || (pending_.empty() && synced_bytes_ >= written_bytes_)) {
    const Status result = failed_;
    lock.unlock();
    done(result);
    return;
  }
  // While the destructor drains, a callback may still queue another: the flusher takes it too.
  if (!flusher_.joinable()) flusher_ = std::thread([this] { run_flusher(); });
  async_waiting_.push_back(std::move(done));
  lock.unlock();
  // Cheap while the flusher is busy syncing: nobody waits on the condition variable then.
  flusher_wakeup_.notify_one();
}

void SegmentedWal::run_flusher() {
  std::vector<SyncDone> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    flusher_wakeup_.wait(lock, [this] { return stopping_ || !async_waiting_.empty(); });
    if (async_waiting_.empty()) return;  // stopping, and every callback has been called
    // Each callback was queued after its appends returned, so one sync() from here covers all.
    batch.swap(async_waiting_);
    lock.unlock();
    const Status result = sync();
    for (SyncDone& done : batch) done(result);
    batch.clear();
    lock.lock();
  }
}

Status SegmentedWal::lead_sync(std::unique_lock<std::mutex>& lock, uint64_t target_bytes) {
  DENGINE_CHECK(sync_in_progress_);
  // Whatever was appended since our sync() was called rides along.
  if (failed_.is_ok()) {
    if (Status st = flush(); !st) static_cast<void>(fail(st));
  }
  // A seal may have covered us since we were elected.
  if (failed_.is_ok() && synced_bytes_ < target_bytes) {
    // Sync everything written so far, without the lock so appends continue meanwhile.
    const std::shared_ptr<Segment> segment = segments_.back();
    const uint64_t covers_bytes = written_bytes_;
    const uint64_t covers_offset = segment->write_offset;
    lock.unlock();
    const Status st = segment->file->sync();
    lock.lock();
    ++stats_.fdatasyncs;
    if (!st) {
      static_cast<void>(fail(with_context("fdatasync of segment " + segment->file_name, st)));
    } else {
      synced_bytes_ = std::max(synced_bytes_, covers_bytes);
      // Only now may later records claim these bytes durable (record.h: synced_offset).
      segment->synced_offset = std::max(segment->synced_offset, covers_offset);
    }
  }
  const Status result = failed_;
  const std::vector<std::shared_ptr<SyncWaiter>> finished = take_finished_waiters();
  // Those left wrote after this sync started: the oldest leads the next one, which covers
  // every one of them, and any caller arriving before it starts.
  std::shared_ptr<SyncWaiter> next_leader;
  if (!sync_waiters_.empty()) {
    next_leader = std::move(sync_waiters_.front());
    sync_waiters_.pop_front();
  } else {
    sync_in_progress_ = false;
  }
  lock.unlock();
  if (next_leader != nullptr) next_leader->complete(/*lead_next=*/true, Status::ok());
  complete_waiters(finished, result);
  return result;
}

std::vector<std::shared_ptr<SegmentedWal::SyncWaiter>> SegmentedWal::take_finished_waiters() {
  std::vector<std::shared_ptr<SyncWaiter>> finished;
  while (!sync_waiters_.empty() &&
         (!failed_.is_ok() || sync_waiters_.front()->target_bytes <= synced_bytes_)) {
    finished.push_back(std::move(sync_waiters_.front()));
    sync_waiters_.pop_front();
  }
  return finished;
}

void SegmentedWal::complete_waiters(const std::vector<std::shared_ptr<SyncWaiter>>& waiters,
                                    const Status& result) {
  for (const std::shared_ptr<SyncWaiter>& waiter : waiters) {
    waiter->complete(/*lead_next=*/false, result);
  }
}

void SegmentedWal::SyncWaiter::complete(bool lead_next, const Status& status) {
  {
    std::lock_guard lock(mu);
    completed = true;
    lead = lead_next;
    result = status;
  }
  cv.notify_one();
}

bool SegmentedWal::SyncWaiter::wait() {
  std::unique_lock lock(mu);
  cv.wait(lock, [this] { return completed; });
  return lead;
}

// ---------------------------------------------------------------------------------------
// Reading

Term SegmentedWal::term_locked(Index index) const {
  if (index + 1 == first_index_) return prev_term_;
  return locations_[index - first_index_].term;
}

Result<std::vector<Entry>> SegmentedWal::entries(Index lo, Index hi, uint64_t max_bytes) const {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (lo < first_index_) {
    return Status::not_found("wal: entry " + std::to_string(lo) + " was compacted (first index " +
                             std::to_string(first_index_) + ")");
  }
  if (lo > hi || hi > last_index_locked() + 1) {
    return Status::invalid_argument("wal: entries [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + ") are not in the log (last index " +
                                    std::to_string(last_index_locked()) + ")");
  }
  size_t count = 0;
  uint64_t bytes = 0;
  for (Index i = lo; i < hi; ++i, ++count) {
    const uint64_t data_bytes = locations_[i - first_index_].data_bytes;
    if (count > 0 && bytes + data_bytes > max_bytes) break;
    bytes += data_bytes;
  }
  std::vector<Entry> out;
  out.reserve(count);
  // One read per run of entries in the same segment.
  for (size_t run_start = 0; run_start < count;) {
    const Location& first = locations_[lo - first_index_ + run_start];
    size_t run_end = run_start + 1;
    while (run_end < count && locations_[lo - first_index_ + run_end].segment == first.segment) {
      ++run_end;
    }
    const Location& last = locations_[lo - first_index_ + run_end - 1];
    const uint64_t end = last.offset + framed_entry_bytes(last.data_bytes);
    Result<std::string> read = read_locked(*first.segment, first.offset, end);
    if (!read) return with_context("reading segment " + first.segment->file_name, read.status());
    for (size_t k = run_start; k < run_end; ++k) {
      const Index index = lo + k;
      const Location& location = locations_[index - first_index_];
      const ParsedRecord parsed = parse_record(*read, location.offset - first.offset,
                                               first.segment->header.salt, first.offset);
      std::optional<Entry> entry;
      if (parsed.kind == ParsedRecord::Kind::kRecord && parsed.record.type == RecordType::kEntry) {
        entry = decode_entry(parsed.record.payload);
      }
      if (!entry || entry->index != index) {
        // Damaged since recovery read it (bit rot, or another writer).
        return Status::corruption(
            "wal: corrupt record in segment " + first.segment->file_name + " at offset " +
            std::to_string(location.offset) + " reading entry " + std::to_string(index) + " (" +
            (parsed.problem.empty() ? "not that entry" : parsed.problem) + ")");
      }
      out.push_back(std::move(*entry));
    }
    run_start = run_end;
  }
  return out;
}

Result<std::string> SegmentedWal::read_locked(const Segment& segment, uint64_t begin,
                                              uint64_t end) const {
  std::string bytes;
  const uint64_t written_end = std::min(end, segment.write_offset);
  if (begin < written_end) {
    Result<std::string> read = segment.file->read_at(begin, written_end - begin);
    if (!read) return read.status();
    bytes = std::move(*read);
  }
  if (end > segment.write_offset) {
    DENGINE_CHECK(&segment == &active());
    const uint64_t from = std::max(begin, segment.write_offset) - segment.write_offset;
    bytes.append(pending_, from, end - segment.write_offset - from);
  }
  return bytes;
}

Result<Term> SegmentedWal::term(Index index) const {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (index + 1 < first_index_) {
    return Status::not_found("wal: entry " + std::to_string(index) +
                             " was compacted (first index " + std::to_string(first_index_) + ")");
  }
  if (index > last_index_locked()) {
    return Status::invalid_argument("wal: no entry " + std::to_string(index) + " (last index " +
                                    std::to_string(last_index_locked()) + ")");
  }
  return term_locked(index);
}

Index SegmentedWal::first_index() const {
  std::lock_guard lock(mu_);
  return first_index_;
}

Index SegmentedWal::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_locked();
}

HardState SegmentedWal::hard_state() const {
  std::lock_guard lock(mu_);
  return hard_state_;
}

// ---------------------------------------------------------------------------------------
// Snapshot installation

Status SegmentedWal::reset(Index snapshot_index, Term snapshot_term) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  if (Status st = check_reset("wal", hard_state_.commit, snapshot_index, snapshot_term); !st)
    return st;
  Status st = seal_active();
  if (st) {
    truncate_after(first_index_ - 1);
    first_index_ = snapshot_index + 1;
    prev_term_ = snapshot_term;
    st = start_segment(first_index_, prev_term_, kSegmentResetsLog);
  }
  return st ? st : fail(st);
}

// ---------------------------------------------------------------------------------------
// Compaction

Status SegmentedWal::compact(Index up_to_index) {
  std::lock_guard lock(mu_);
  if (!failed_.is_ok()) return failed_;
  bool removed = false;
  // Oldest first, so a crash part way keeps a contiguous log.
  while (segments_.size() > 1) {
    const Segment& front = *segments_.front();
    const uint64_t held = front.surviving_entries;
    if (held > 0 && first_index_ + held - 1 > up_to_index) break;
    DENGINE_CHECK(held == 0 || locations_.front().segment == &front);
    const std::string path = join_path(wal_dir_, front.file_name);
    if (Status st = fs_->remove(path); !st) return with_context("removing " + path, st);
    if (held > 0) {
      prev_term_ = locations_[held - 1].term;
      locations_.erase(locations_.begin(), locations_.begin() + static_cast<ptrdiff_t>(held));
      first_index_ += held;
    }
    segments_.pop_front();
    removed = true;
  }
  if (removed) {
    if (Status st = fs_->sync_dir(wal_dir_); !st) {
      return fail(with_context("fsync of the wal dir after compaction", st));
    }
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------

WalStats SegmentedWal::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

SegmentedWal::Position SegmentedWal::tail() const {
  std::lock_guard lock(mu_);
  return Position{active().file_name, active().write_offset + pending_.size()};
}

}  // namespace dengine::log

namespace dengine {

Result<OpenedLogStore> open_wal_log_store(const std::string& data_dir, const WalOptions& options) {
  Result<log::SegmentedWal::Opened> opened =
      log::SegmentedWal::open(std::make_shared<log::PosixFileSystem>(), data_dir, options);
  if (!opened) return opened.status();
  return OpenedLogStore{std::move(opened->wal), std::move(opened->recovered)};
}

}  // namespace dengine
