#include "tests/log/log_test_util.h"

#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "common/check.h"
#include "common/splitmix64.h"

namespace dengine::log::testing {

std::string payload(Index index, Term term, size_t size) {
  std::string data(size, '\0');
  uint64_t x = index * 0x9e3779b97f4a7c15ULL + term;
  for (size_t i = 0; i < size; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    data[i] = static_cast<char>((x * 0x2545f4914f6cdd1dULL) >> 56);
  }
  return data;
}

Entry make_entry(Index index, Term term, size_t size) {
  Entry entry;
  entry.index = index;
  entry.term = term;
  entry.type = size == 0 ? EntryType::kNoOp : EntryType::kNormal;
  entry.data = payload(index, term, size);
  return entry;
}

std::vector<Entry> make_entries(Index first, Index last, Term term, size_t size) {
  std::vector<Entry> entries;
  for (Index i = first; i <= last; ++i) entries.push_back(make_entry(i, term, size));
  return entries;
}

uint64_t Rng::next() {
  return splitmix64_next(state_);
}

uint64_t Rng::uniform(uint64_t bound) {
  return bound == 0 ? 0 : next() % bound;
}

void LogModel::append(std::span<const Entry> batch, const std::optional<HardState>& hs) {
  if (!batch.empty()) {
    DENGINE_CHECK(batch.front().index <= last_index() + 1);
    truncate_after(batch.front().index - 1);
    entries.insert(entries.end(), batch.begin(), batch.end());
  }
  if (hs) hard_state = *hs;
}

void LogModel::reset(Index index, Term term) {
  entries.resize(index);
  if (index > 0) entries[index - 1] = Entry{.term = term, .index = index};
}

std::string mismatch(const LogModel& model, const RecoveredLog& recovered) {
  if (recovered.last_index() != model.last_index()) {
    return "last index " + std::to_string(recovered.last_index()) + " != expected " +
           std::to_string(model.last_index());
  }
  if (!(recovered.hard_state == model.hard_state)) {
    auto text = [](const HardState& hs) {
      return "(term " + std::to_string(hs.term) + ", vote " + std::to_string(hs.vote) +
             ", commit " + std::to_string(hs.commit) + ")";
    };
    return "hard state " + text(recovered.hard_state) + " != expected " + text(model.hard_state);
  }
  if (recovered.first_index < 1) return "first index 0";
  if (recovered.prev_term != model.term_at(recovered.first_index - 1)) {
    return "prev term " + std::to_string(recovered.prev_term) +
           " != " + std::to_string(model.term_at(recovered.first_index - 1));
  }
  for (size_t i = 0; i < recovered.entries.size(); ++i) {
    const Index index = recovered.first_index + i;
    if (!(recovered.entries[i] == model.entries[index - 1])) {
      return "entry " + std::to_string(index) + " differs";
    }
  }
  return {};
}

std::string check_prefix_of(const LogModel& durable, const std::vector<Op>& ops,
                            const RecoveredLog& recovered, LogModel* matched) {
  LogModel state = durable;
  std::string problem = mismatch(state, recovered);
  if (problem.empty()) {
    if (matched != nullptr) *matched = state;
    return {};
  }
  // Of the candidates with the recovered last index, the last one says what differs.
  std::string same_length_problem;
  auto consider = [&](const LogModel& candidate) {
    std::string why = mismatch(candidate, recovered);
    if (!why.empty() && candidate.last_index() == recovered.last_index()) {
      same_length_problem = why;
    }
    if (why.empty() && matched != nullptr) *matched = candidate;
    return why.empty();
  };
  for (const Op& op : ops) {
    if (op.reset) {
      state.reset(op.reset->first, op.reset->second);
      if (consider(state)) return {};
      continue;
    }
    if (!op.entries.empty()) {
      LogModel partial = state;
      partial.truncate_after(op.entries.front().index - 1);
      for (size_t j = 0; j <= op.entries.size(); ++j) {
        if (j > 0) partial.entries.push_back(op.entries[j - 1]);
        if (consider(partial)) return {};
      }
    }
    state.append(op.entries, op.hard_state);
    if (consider(state)) return {};
  }
  std::string listed;
  for (const Op& op : ops) {
    listed += "\n  ";
    if (op.reset) {
      listed += "reset to a snapshot at " + std::to_string(op.reset->first) + " term " +
                std::to_string(op.reset->second);
      continue;
    }
    listed += "append";
    if (!op.entries.empty()) {
      listed += " [" + std::to_string(op.entries.front().index) + ", " +
                std::to_string(op.entries.back().index) + "] term " +
                std::to_string(op.entries.front().term);
    }
    if (op.hard_state) {
      listed += " hard state (term " + std::to_string(op.hard_state->term) + ", vote " +
                std::to_string(op.hard_state->vote) + ", commit " +
                std::to_string(op.hard_state->commit) + ")";
    }
  }
  return "recovered [" + std::to_string(recovered.first_index) + ", " +
         std::to_string(recovered.last_index()) + "] from synced [1, " +
         std::to_string(durable.last_index()) + "] and the unsynced operations:" + listed +
         "\nnot a prefix of the appends since the last sync (against the synced state: " + problem +
         "; against all appends: " + mismatch(state, recovered) +
         (same_length_problem.empty()
              ? ""
              : "; against a state of the same length: " + same_length_problem) +
         ")";
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/dengine-log-test-XXXXXX";
  DENGINE_CHECK(::mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace dengine::log::testing
