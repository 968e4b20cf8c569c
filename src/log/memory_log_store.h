#pragma once

// The in-memory LogStore (tests and MemFirst mode). Same contract and the same argument
// checks as the WAL; sync() is a no-op because nothing here survives the process. Compaction
// drops exactly the entries asked for.

#include <deque>
#include <mutex>

#include "dengine/log_store.h"

namespace dengine::log {

class MemoryLogStore final : public LogStore {
 public:
  MemoryLogStore() = default;

  Status append(std::span<const Entry> entries,
                const std::optional<HardState>& hard_state) override;
  Status sync() override { return Status::ok(); }
  Result<std::vector<Entry>> entries(Index lo, Index hi, uint64_t max_bytes) const override;
  Result<Term> term(Index index) const override;
  Index first_index() const override;
  Index last_index() const override;
  HardState hard_state() const override;
  Status compact(Index up_to_index) override;
  Status reset(Index snapshot_index, Term snapshot_term) override;

 private:
  [[nodiscard]] Index last_index_locked() const { return first_index_ + entries_.size() - 1; }

  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // entries_[i] has index first_index_ + i
  Index first_index_ = 1;
  Term prev_term_ = 0;
  HardState hard_state_;
};

}  // namespace dengine::log
