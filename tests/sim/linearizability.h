#pragma once

// Linearizability checker for histories recorded against a replicated register map (the
// key-value state machine the simulator drives through dengine).
//
// Algorithm: Wing & Gong's search with Lowe's refinements ("Testing for linearizability", 2017),
// as popularised by Porcupine. Each key is an independent register, so the history is split by
// key and every key is checked on its own (P-compositionality): the whole history is
// linearizable iff every per-key sub-history is. That split is what keeps the search tractable.
//
// Deterministic: no randomness, threads or clocks, so a failing seed reproduces the same verdict
// and the same explanation.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dengine::sim {

// The value of a key that has never been written. A sentinel (rather than std::optional) keeps
// KvOperation a flat aggregate that harnesses fill in field by field. Used in three places:
// Get::read_value for "the key was absent", Cas::expected for "only if absent", and as the
// initial value of every key. A Put of kAbsent therefore behaves like a delete.
inline constexpr int64_t kAbsent = std::numeric_limits<int64_t>::min();

enum class OpKind : uint8_t { kPut, kCas, kGet };

struct KvOperation {
  int client_id = 0;  // only used in explanations
  OpKind kind = OpKind::kGet;
  uint32_t key = 0;
  int64_t value = 0;     // Put: value written; Cas: new value
  int64_t expected = 0;  // Cas only

  // An operation whose outcome is unknown (the client timed out) may or may not have taken
  // effect, at any moment after its call: its output is unconstrained and return_time is ignored
  // (treated as +infinity, so it never forces another operation to come after it).
  bool outcome_known = true;
  bool cas_succeeded = false;  // Cas with known outcome
  int64_t read_value = 0;      // Get with known outcome (kAbsent when the key was absent)

  // Any monotonic clock shared by all clients. An operation returning at t and another called at
  // t are treated as concurrent: equal timestamps give no real-time order.
  uint64_t call_time = 0;
  uint64_t return_time = 0;
};

enum class Verdict : uint8_t { kLinearizable, kNotLinearizable, kInconclusive };

struct LinearizabilityResult {
  Verdict verdict = Verdict::kLinearizable;
  // kNotLinearizable: the offending key, the longest linearizable prefix found on it and the
  // operation that could not follow it (or which operation is malformed).
  // kInconclusive: the key(s) whose search exhausted the state budget.
  // kLinearizable: empty.
  std::string explanation;
  // Distinct (linearized set, register value) configurations visited, summed over the keys
  // checked. Useful to spot histories that are close to the budget.
  uint64_t states_explored = 0;
};

inline constexpr uint64_t kDefaultMaxStatesPerKey = 2'000'000;

// Checks `history` (in any order) against a sequential map whose keys all start at kAbsent.
//
// Unknown-outcome Gets are dropped up front: they neither change state nor constrain anything.
// A known-outcome operation with return_time < call_time is a recording bug; it yields
// kNotLinearizable with an explanation starting "malformed history", so that it can never be
// mistaken for a pass.
//
// Each key's search stops with kInconclusive once it has visited more than
// `max_states_per_key` configurations. Verdict precedence across keys: kNotLinearizable if any
// key is not linearizable (the search stops at the first such key), else kInconclusive if any key
// ran out of budget, else kLinearizable.
[[nodiscard]] LinearizabilityResult check_linearizable(
    const std::vector<KvOperation>& history, uint64_t max_states_per_key = kDefaultMaxStatesPerKey);

// One-line rendering of an operation, as used in explanations, e.g.
// "c2 Cas(k1, absent -> 5) = ok [10, 20]" or "c0 Put(k3, 7) = ? [4, ?]".
[[nodiscard]] std::string describe_operation(const KvOperation& operation);

[[nodiscard]] const char* verdict_name(Verdict verdict);

}  // namespace dengine::sim
