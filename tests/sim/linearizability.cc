#include "tests/sim/linearizability.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "common/splitmix64.h"

namespace dengine::sim {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// Explanations list at most this many operations of the longest prefix: the tail is what matters
// when reading a failure, and keys can carry thousands of operations.
constexpr size_t kMaxPrefixOpsShown = 8;

// splitmix64: cheap and avalanches well, which both the XOR-combined set hash and the
// linear-probing table below rely on.
uint64_t mix64(uint64_t x) {
  return splitmix64_of(x);
}

std::string format_value(int64_t value) {
  return value == kAbsent ? std::string("absent") : std::to_string(value);
}

// ---- The sequential specification of one register -------------------------------------------

struct ModelStep {
  bool allowed = false;
  int64_t value_after = kAbsent;
};

ModelStep apply_cas(const KvOperation& op, int64_t current) {
  const bool expected_holds = current == op.expected;
  if (!op.outcome_known) {
    // A CAS that would fail leaves the register untouched, so linearizing it now is never better
    // than leaving it pending (it may still succeed later, and unknown operations need not be
    // linearized at all). Refusing it here only prunes the search.
    return {expected_holds, op.value};
  }
  if (op.cas_succeeded) return {expected_holds, op.value};
  return {!expected_holds, current};
}

ModelStep apply_to_register(const KvOperation& op, int64_t current) {
  switch (op.kind) {
    case OpKind::kPut: return {true, op.value};
    case OpKind::kCas: return apply_cas(op, current);
    case OpKind::kGet: return {!op.outcome_known || op.read_value == current, current};
  }
  return {false, current};
}

// ---- Search state -----------------------------------------------------------------------------

// Which of a key's operations are linearized so far. The hash is Zobrist-style (XOR of one mixed
// value per member) so it updates in O(1) as the search linearizes and backtracks.
class LinearizedSet {
 public:
  explicit LinearizedSet(size_t op_count) : words_((op_count + 63) / 64, 0) {}

  void insert(uint32_t op) {
    words_[op / 64] |= bit(op);
    hash_ ^= mix64(op);
  }
  void erase(uint32_t op) {
    words_[op / 64] &= ~bit(op);
    hash_ ^= mix64(op);
  }
  [[nodiscard]] uint64_t hash() const { return hash_; }
  [[nodiscard]] const std::vector<uint64_t>& words() const { return words_; }

 private:
  static uint64_t bit(uint32_t op) { return uint64_t{1} << (op % 64); }

  std::vector<uint64_t> words_;
  uint64_t hash_ = 0;
};

// Lowe's cache: every (linearized set, register value) configuration already reached. Reaching
// one again by another route cannot succeed where the first visit failed, so it is pruned.
// Stored flat (the set's words plus the value per record, open addressing over record numbers)
// because the budget allows millions of configurations and a heap vector each would dominate
// memory.
class ExploredConfigurations {
 public:
  explicit ExploredConfigurations(size_t set_words)
      : stride_(set_words + 1), slots_(kInitialSlots, kEmptySlot) {}

  // Returns false if the configuration had already been explored.
  bool insert(const LinearizedSet& linearized, int64_t value) {
    const uint64_t hash = mix64(linearized.hash() ^ mix64(static_cast<uint64_t>(value)));
    const size_t slot = find_slot(hash, linearized.words(), value);
    if (slots_[slot] != kEmptySlot) return false;
    slots_[slot] = append_record(hash, linearized.words(), value);
    if (2 * count() > slots_.size()) grow();
    return true;
  }

  [[nodiscard]] uint64_t count() const { return hashes_.size(); }

 private:
  static constexpr uint32_t kEmptySlot = std::numeric_limits<uint32_t>::max();
  static constexpr size_t kInitialSlots = 1024;  // a power of two, for masking

  // The slot holding an equal configuration, or the empty slot where it would go.
  size_t find_slot(uint64_t hash, const std::vector<uint64_t>& words, int64_t value) const {
    const size_t mask = slots_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const uint32_t record = slots_[slot];
      if (record == kEmptySlot) return slot;
      if (hashes_[record] == hash && record_equals(record, words, value)) return slot;
    }
  }

  bool record_equals(uint32_t record, const std::vector<uint64_t>& words, int64_t value) const {
    const uint64_t* stored = records_.data() + static_cast<size_t>(record) * stride_;
    return std::equal(words.begin(), words.end(), stored) &&
           stored[words.size()] == static_cast<uint64_t>(value);
  }

  uint32_t append_record(uint64_t hash, const std::vector<uint64_t>& words, int64_t value) {
    records_.insert(records_.end(), words.begin(), words.end());
    records_.push_back(static_cast<uint64_t>(value));
    hashes_.push_back(hash);
    return static_cast<uint32_t>(hashes_.size() - 1);
  }

  void grow() {
    std::vector<uint32_t> bigger(slots_.size() * 2, kEmptySlot);
    const size_t mask = bigger.size() - 1;
    for (uint32_t record = 0; record < hashes_.size(); ++record) {
      size_t slot = hashes_[record] & mask;
      while (bigger[slot] != kEmptySlot) slot = (slot + 1) & mask;
      bigger[slot] = record;
    }
    slots_.swap(bigger);
  }

  size_t stride_;
  std::vector<uint64_t> records_;
  std::vector<uint64_t> hashes_;  // per record, so growing never rereads records
  std::vector<uint32_t> slots_;   // record numbers
};

// ---- Lowe's event list ------------------------------------------------------------------------

// Call and return events of one key in time order, as a doubly linked list between two
// sentinels. The operations that may be linearized next are exactly the calls before the first
// return. Linearizing an operation lifts its events out; backtracking splices them back, which
// is valid because lifts are undone in LIFO order, so the saved neighbours are still current.
// Unknown-outcome operations have no return event: their return is at +infinity.
class EventList {
 public:
  enum class Kind : uint8_t { kSentinel, kCall, kReturn };
  struct Entry {
    Kind kind = Kind::kSentinel;
    uint32_t op = kNone;
    uint32_t prev = kNone;
    uint32_t next = kNone;
    uint32_t return_entry = kNone;  // calls only; kNone for unknown outcomes
  };

  explicit EventList(const std::vector<const KvOperation*>& ops) { build(ops); }

  [[nodiscard]] uint32_t first() const { return entries_[kHead].next; }
  [[nodiscard]] const Entry& at(uint32_t index) const { return entries_[index]; }

  void lift(uint32_t call) {
    unlink(call);
    if (entries_[call].return_entry != kNone) unlink(entries_[call].return_entry);
  }
  void unlift(uint32_t call) {
    if (entries_[call].return_entry != kNone) relink(entries_[call].return_entry);
    relink(call);
  }

 private:
  static constexpr uint32_t kHead = 0;

  struct Event {
    uint64_t time;
    bool is_return;
    uint32_t op;
  };

  void build(const std::vector<const KvOperation*>& ops) {
    std::vector<Event> events = sorted_events(ops);
    entries_.resize(events.size() + 2);
    std::vector<uint32_t> return_entry_of_op(ops.size(), kNone);
    for (uint32_t i = 0; i < events.size(); ++i) {
      const uint32_t index = i + 1;
      entries_[index].kind = events[i].is_return ? Kind::kReturn : Kind::kCall;
      entries_[index].op = events[i].op;
      if (events[i].is_return) return_entry_of_op[events[i].op] = index;
    }
    for (uint32_t index = 0; index < entries_.size(); ++index) {
      Entry& entry = entries_[index];
      entry.prev = index == 0 ? kNone : index - 1;
      entry.next = index + 1 == entries_.size() ? kNone : index + 1;
      if (entry.kind == Kind::kCall) entry.return_entry = return_entry_of_op[entry.op];
    }
  }

  // Calls sort before returns at equal times, so touching intervals count as concurrent; the op
  // index breaks remaining ties deterministically.
  static std::vector<Event> sorted_events(const std::vector<const KvOperation*>& ops) {
    std::vector<Event> events;
    events.reserve(ops.size() * 2);
    for (uint32_t op = 0; op < ops.size(); ++op) {
      events.push_back({ops[op]->call_time, false, op});
      if (ops[op]->outcome_known) events.push_back({ops[op]->return_time, true, op});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return std::tie(a.time, a.is_return, a.op) < std::tie(b.time, b.is_return, b.op);
    });
    return events;
  }

  void unlink(uint32_t index) {
    const Entry& entry = entries_[index];
    entries_[entry.prev].next = entry.next;
    entries_[entry.next].prev = entry.prev;
  }
  void relink(uint32_t index) {
    const Entry& entry = entries_[index];
    entries_[entry.prev].next = index;
    entries_[entry.next].prev = index;
  }

  std::vector<Entry> entries_;
};

// ---- The per-key search -----------------------------------------------------------------------

class KeySearch {
 public:
  KeySearch(uint32_t key, std::vector<const KvOperation*> ops, uint64_t max_states)
      : key_(key),
        ops_(std::move(ops)),
        max_states_(max_states),
        events_(ops_),
        linearized_(ops_.size()),
        explored_(linearized_.words().size()),
        known_pending_(static_cast<size_t>(std::count_if(
            ops_.begin(), ops_.end(), [](const KvOperation* op) { return op->outcome_known; }))) {}

  LinearizabilityResult run() {
    uint32_t entry = events_.first();
    // Unknown-outcome operations never need to be linearized, so success is when every known
    // operation is, even if unknown calls remain in the list.
    while (known_pending_ > 0) {
      if (explored_.count() > max_states_) return inconclusive();
      const EventList::Entry& current = events_.at(entry);
      if (current.kind == EventList::Kind::kCall) {
        const uint32_t next = current.next;
        entry = try_linearize(entry) ? events_.first() : next;
        continue;
      }
      // A return (or, defensively, the tail): that operation had to be linearized by now and no
      // candidate worked from here.
      remember_if_deepest(current);
      if (stack_.empty()) return not_linearizable();
      entry = backtrack();
    }
    return {Verdict::kLinearizable, "", explored_.count()};
  }

 private:
  struct Frame {
    uint32_t call_entry;
    int64_t value_before;
  };

  bool try_linearize(uint32_t call_entry) {
    const uint32_t op = events_.at(call_entry).op;
    const ModelStep step = apply_to_register(*ops_[op], value_);
    if (!step.allowed) return false;
    linearized_.insert(op);
    if (!explored_.insert(linearized_, step.value_after)) {
      linearized_.erase(op);
      return false;
    }
    stack_.push_back({call_entry, value_});
    value_ = step.value_after;
    if (ops_[op]->outcome_known) --known_pending_;
    events_.lift(call_entry);
    return true;
  }

  // Undoes the most recent linearization and returns where to resume: just after that call, so
  // the next candidate gets its turn.
  uint32_t backtrack() {
    const Frame frame = stack_.back();
    stack_.pop_back();
    events_.unlift(frame.call_entry);
    const EventList::Entry& call = events_.at(frame.call_entry);
    linearized_.erase(call.op);
    value_ = frame.value_before;
    if (ops_[call.op]->outcome_known) ++known_pending_;
    return call.next;
  }

  void remember_if_deepest(const EventList::Entry& dead_end) {
    if (found_dead_end_ && stack_.size() <= deepest_prefix_.size()) return;
    found_dead_end_ = true;
    deepest_prefix_.clear();
    for (const Frame& frame : stack_) deepest_prefix_.push_back(events_.at(frame.call_entry).op);
    deepest_value_ = value_;
    deepest_blocked_op_ = dead_end.kind == EventList::Kind::kReturn ? dead_end.op : kNone;
  }

  LinearizabilityResult not_linearizable() const {
    std::string text = "key " + std::to_string(key_) + ": no linearization of its " +
                       std::to_string(ops_.size()) + " operations. Longest linearizable prefix (" +
                       std::to_string(deepest_prefix_.size()) + " ops): [" + describe_prefix() +
                       "] leaving value " + format_value(deepest_value_) + ".";
    if (deepest_blocked_op_ != kNone) {
      text += " Cannot follow it: " + describe_operation(*ops_[deepest_blocked_op_]) +
              " (must take effect before it returns; no pending operation leads to a full "
              "linearization).";
    }
    return {Verdict::kNotLinearizable, std::move(text), explored_.count()};
  }

  std::string describe_prefix() const {
    std::string text;
    const size_t shown_from = deepest_prefix_.size() > kMaxPrefixOpsShown
                                  ? deepest_prefix_.size() - kMaxPrefixOpsShown
                                  : 0;
    if (shown_from > 0) text = "... " + std::to_string(shown_from) + " earlier ops; ";
    for (size_t i = shown_from; i < deepest_prefix_.size(); ++i) {
      if (i > shown_from) text += "; ";
      text += describe_operation(*ops_[deepest_prefix_[i]]);
    }
    return text;
  }

  LinearizabilityResult inconclusive() const {
    std::string text = "key " + std::to_string(key_) + ": gave up after exploring " +
                       std::to_string(explored_.count()) + " states (budget " +
                       std::to_string(max_states_) + ") over " + std::to_string(ops_.size()) +
                       " operations";
    return {Verdict::kInconclusive, std::move(text), explored_.count()};
  }

  uint32_t key_;
  std::vector<const KvOperation*> ops_;
  uint64_t max_states_;
  EventList events_;
  LinearizedSet linearized_;
  ExploredConfigurations explored_;
  int64_t value_ = kAbsent;
  size_t known_pending_;
  std::vector<Frame> stack_;

  // Diagnostics: the dead end reached with the most operations linearized.
  bool found_dead_end_ = false;
  std::vector<uint32_t> deepest_prefix_;
  int64_t deepest_value_ = kAbsent;
  uint32_t deepest_blocked_op_ = kNone;
};

// ---- Whole history ----------------------------------------------------------------------------

const KvOperation* find_malformed(const std::vector<KvOperation>& history) {
  for (const KvOperation& op : history) {
    if (op.outcome_known && op.return_time < op.call_time) return &op;
  }
  return nullptr;
}

// std::map so keys are checked in a fixed order; operations keep their history order.
std::map<uint32_t, std::vector<const KvOperation*>> partition_by_key(
    const std::vector<KvOperation>& history) {
  std::map<uint32_t, std::vector<const KvOperation*>> by_key;
  for (const KvOperation& op : history) {
    if (op.kind == OpKind::kGet && !op.outcome_known) continue;  // constrains nothing
    by_key[op.key].push_back(&op);
  }
  return by_key;
}

// The table stores record numbers as uint32_t; memory runs out long before this bound anyway.
uint64_t clamp_budget(uint64_t max_states_per_key) {
  return std::min<uint64_t>(max_states_per_key, std::numeric_limits<uint32_t>::max() - 1);
}

}  // namespace

LinearizabilityResult check_linearizable(const std::vector<KvOperation>& history,
                                         uint64_t max_states_per_key) {
  if (const KvOperation* malformed = find_malformed(history)) {
    return {Verdict::kNotLinearizable,
            "malformed history: " + describe_operation(*malformed) + " returns before its call", 0};
  }
  LinearizabilityResult result;
  for (auto& [key, ops] : partition_by_key(history)) {
    LinearizabilityResult key_result =
        KeySearch(key, std::move(ops), clamp_budget(max_states_per_key)).run();
    result.states_explored += key_result.states_explored;
    if (key_result.verdict == Verdict::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      result.explanation = std::move(key_result.explanation);
      return result;
    }
    if (key_result.verdict == Verdict::kInconclusive) {
      result.verdict = Verdict::kInconclusive;
      if (!result.explanation.empty()) result.explanation += "; ";
      result.explanation += key_result.explanation;
    }
  }
  return result;
}

std::string describe_operation(const KvOperation& operation) {
  const std::string key = "k" + std::to_string(operation.key);
  const bool known = operation.outcome_known;
  std::string text = "c" + std::to_string(operation.client_id) + " ";
  switch (operation.kind) {
    case OpKind::kPut:
      text += "Put(" + key + ", " + format_value(operation.value) + ")" + (known ? "" : " = ?");
      break;
    case OpKind::kCas:
      text += "Cas(" + key + ", " + format_value(operation.expected) + " -> " +
              format_value(operation.value) +
              ") = " + (known ? (operation.cas_succeeded ? "ok" : "failed") : "?");
      break;
    case OpKind::kGet:
      text += "Get(" + key + ") = " + (known ? format_value(operation.read_value) : "?");
      break;
  }
  text += " [" + std::to_string(operation.call_time) + ", " +
          (known ? std::to_string(operation.return_time) : "?") + "]";
  return text;
}

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable: return "linearizable";
    case Verdict::kNotLinearizable: return "not linearizable";
    case Verdict::kInconclusive: return "inconclusive";
  }
  return "unknown verdict";
}

}  // namespace dengine::sim
