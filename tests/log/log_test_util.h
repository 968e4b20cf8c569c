#pragma once

// Helpers shared by the log/ tests: entries, a reference model of the log, temp directories.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dengine/entry.h"
#include "dengine/log_store.h"

namespace dengine::log::testing {

// A deterministic payload for (index, term), `size` bytes long, so any entry read back can be
// checked on its own.
std::string payload(Index index, Term term, size_t size);
Entry make_entry(Index index, Term term, size_t size = 16);
std::vector<Entry> make_entries(Index first, Index last, Term term, size_t size = 16);

// splitmix64: the tests' only randomness, seeded.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t uniform(uint64_t bound);                                               // [0, bound)
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + uniform(hi - lo + 1); }  // [lo, hi]
  bool chance(uint64_t one_in) { return uniform(one_in) == 0; }

 private:
  uint64_t state_;
};

// What the log should hold: every entry from index 1 on (compaction is not modelled: a store
// may hold any suffix of it), and the hard state.
struct LogModel {
  std::vector<Entry> entries;  // entries[i].index == i + 1
  HardState hard_state;

  [[nodiscard]] Index last_index() const { return entries.size(); }
  [[nodiscard]] Term term_at(Index index) const { return index == 0 ? 0 : entries[index - 1].term; }
  void truncate_after(Index index) { entries.resize(index); }
  void append(std::span<const Entry> batch, const std::optional<HardState>& hard_state);
  // A snapshot at `index`: entries before it become placeholders no recovered log is compared
  // with (recovery starts after the snapshot), the one at `index` carries its term.
  void reset(Index index, Term term);
};

// An append (or a snapshot's reset) not yet known durable.
struct Op {
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  std::optional<std::pair<Index, Term>> reset{};  // instead of an append
};

// Empty when `recovered` matches `model` (same last index, hard state, the entries it holds and
// the term before them); otherwise what differs.
std::string mismatch(const LogModel& model, const RecoveredLog& recovered);

// Empty when `recovered` is what a crash may leave after `durable` was synced and `ops` were
// appended since: the effect of a prefix of the ops, where the last one may have stopped after
// its truncation and some of its entries, before its hard state.
// `matched`, when given, receives the allowed state that matched.
std::string check_prefix_of(const LogModel& durable, const std::vector<Op>& ops,
                            const RecoveredLog& recovered, LogModel* matched = nullptr);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace dengine::log::testing
