#include "tests/sim/linearizability.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/splitmix64.h"

namespace dengine::sim {
namespace {

// ---- Building operations ----------------------------------------------------------------------

KvOperation put(int client, uint32_t key, int64_t value, uint64_t call, uint64_t ret) {
  KvOperation op;
  op.client_id = client;
  op.kind = OpKind::kPut;
  op.key = key;
  op.value = value;
  op.call_time = call;
  op.return_time = ret;
  return op;
}

KvOperation get(int client, uint32_t key, int64_t read_value, uint64_t call, uint64_t ret) {
  KvOperation op;
  op.client_id = client;
  op.kind = OpKind::kGet;
  op.key = key;
  op.read_value = read_value;
  op.call_time = call;
  op.return_time = ret;
  return op;
}

KvOperation cas(int client, uint32_t key, int64_t expected, int64_t new_value, bool succeeded,
                uint64_t call, uint64_t ret) {
  KvOperation op;
  op.client_id = client;
  op.kind = OpKind::kCas;
  op.key = key;
  op.expected = expected;
  op.value = new_value;
  op.cas_succeeded = succeeded;
  op.call_time = call;
  op.return_time = ret;
  return op;
}

// The client timed out. The recorded return time is deliberately early, to prove it is ignored.
KvOperation timed_out(KvOperation op) {
  op.outcome_known = false;
  op.return_time = op.call_time;
  return op;
}

Verdict verdict_of(const std::vector<KvOperation>& history) {
  return check_linearizable(history).verdict;
}

// ---- Empty and sequential ---------------------------------------------------------------------

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  const LinearizabilityResult result = check_linearizable({});
  EXPECT_EQ(result.verdict, Verdict::kLinearizable);
  EXPECT_TRUE(result.explanation.empty());
}

TEST(Linearizability, SequentialPutThenGetIsLinearizable) {
  EXPECT_EQ(verdict_of({put(0, 1, 5, 0, 10), get(1, 1, 5, 20, 30)}), Verdict::kLinearizable);
}

TEST(Linearizability, GetOfNeverWrittenKeySeesAbsent) {
  EXPECT_EQ(verdict_of({get(0, 1, kAbsent, 0, 10)}), Verdict::kLinearizable);
  EXPECT_EQ(verdict_of({get(0, 1, 0, 0, 10)}), Verdict::kNotLinearizable);
}

// ---- Concurrency ------------------------------------------------------------------------------

TEST(Linearizability, GetConcurrentWithPutMaySeeOldValue) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), put(0, 1, 2, 20, 40), get(1, 1, 1, 25, 35)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, GetConcurrentWithPutMaySeeNewValue) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), put(0, 1, 2, 20, 40), get(1, 1, 2, 25, 35)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, OperationsMeetingAtOneInstantAreConcurrent) {
  // The put returns at 10 and the get is called at 10: no real-time order between them.
  EXPECT_EQ(verdict_of({put(0, 1, 5, 0, 10), get(1, 1, kAbsent, 10, 20)}), Verdict::kLinearizable);
}

TEST(Linearizability, ConcurrentWritesMayTakeEffectInEitherOrder) {
  // Requires the search to back out of linearizing put(1) first.
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 100), put(1, 1, 2, 0, 100), get(2, 1, 2, 10, 20),
                        get(2, 1, 1, 30, 40)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, ReadsCannotObserveConcurrentWritesInTwoOrders) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 100), put(1, 1, 2, 0, 100), get(2, 1, 1, 10, 20),
                        get(2, 1, 2, 30, 40), get(2, 1, 1, 50, 60)}),
            Verdict::kNotLinearizable);
}

// ---- Classic anomalies ------------------------------------------------------------------------

TEST(Linearizability, StaleReadAfterCompletedPutIsRejected) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), put(0, 1, 2, 20, 30), get(1, 1, 1, 40, 50)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, LostWriteIsRejected) {
  EXPECT_EQ(verdict_of({put(0, 1, 5, 0, 10), get(1, 1, kAbsent, 20, 30)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, ReadCannotReturnOlderValueThanAnEarlierRead) {
  // put(2) is still in flight for both reads, but once a read has seen 2 it has taken effect.
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), put(0, 1, 2, 20, 100), get(1, 1, 2, 30, 40),
                        get(1, 1, 1, 50, 60)}),
            Verdict::kNotLinearizable);
}

// ---- Compare-and-swap -------------------------------------------------------------------------

TEST(Linearizability, FailedCasThatTookEffectIsRejected) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), cas(1, 1, 7, 2, false, 20, 30), get(2, 1, 2, 40, 50)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, FailedCasWhoseExpectedValueHeldIsRejected) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), cas(1, 1, 1, 2, false, 20, 30)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, SuccessfulCasWhoseExpectedValueNeverHeldIsRejected) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), cas(1, 1, 3, 4, true, 20, 30)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, CasFromAbsentSucceedsOnFreshKey) {
  EXPECT_EQ(verdict_of({cas(0, 1, kAbsent, 5, true, 0, 10), get(1, 1, 5, 20, 30)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, OnlyOneCasFromAbsentCanSucceed) {
  EXPECT_EQ(verdict_of({cas(0, 1, kAbsent, 5, true, 0, 100), cas(1, 1, kAbsent, 6, true, 0, 100)}),
            Verdict::kNotLinearizable);
}

// ---- Unknown outcomes -------------------------------------------------------------------------

TEST(Linearizability, UnknownPutMayHaveTakenEffect) {
  EXPECT_EQ(
      verdict_of({put(0, 1, 1, 0, 10), timed_out(put(0, 1, 2, 20, 30)), get(1, 1, 2, 40, 50)}),
      Verdict::kLinearizable);
}

TEST(Linearizability, UnknownPutMayNotHaveTakenEffect) {
  EXPECT_EQ(
      verdict_of({put(0, 1, 1, 0, 10), timed_out(put(0, 1, 2, 20, 30)), get(1, 1, 1, 40, 50)}),
      Verdict::kLinearizable);
}

TEST(Linearizability, UnknownPutMayTakeEffectLongAfterItsCall) {
  // Reads 1 then 2, both after the client gave up: only possible if the put landed in between.
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), timed_out(put(0, 1, 2, 20, 30)), get(1, 1, 1, 40, 50),
                        get(1, 1, 2, 60, 70)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, UnknownPutCannotTakeEffectBeforeItsCall) {
  EXPECT_EQ(verdict_of({get(1, 1, 2, 0, 10), timed_out(put(0, 1, 2, 20, 30))}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownPutTakesEffectAtMostOnce) {
  EXPECT_EQ(verdict_of({timed_out(put(0, 1, 2, 0, 10)), get(1, 1, 2, 20, 30), put(1, 1, 3, 40, 50),
                        get(1, 1, 2, 60, 70)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownCasMayHaveSucceeded) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), timed_out(cas(0, 1, 1, 2, false, 20, 30)),
                        get(1, 1, 2, 40, 50)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, UnknownCasCannotSucceedWithoutItsExpectedValue) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), timed_out(cas(0, 1, 7, 2, false, 20, 30)),
                        get(1, 1, 2, 40, 50)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownGetConstrainsNothing) {
  EXPECT_EQ(verdict_of({put(0, 1, 1, 0, 10), timed_out(get(1, 1, 99, 20, 30))}),
            Verdict::kLinearizable);
}

TEST(Linearizability, HistoryOfOnlyUnknownOperationsIsLinearizable) {
  EXPECT_EQ(verdict_of({timed_out(put(0, 1, 1, 0, 10)), timed_out(cas(1, 1, 5, 6, false, 0, 10)),
                        timed_out(get(2, 1, 3, 0, 10))}),
            Verdict::kLinearizable);
}

// ---- Keys -------------------------------------------------------------------------------------

TEST(Linearizability, IndependentKeysDoNotInterfere) {
  EXPECT_EQ(verdict_of({put(0, 1, 5, 0, 10), get(1, 2, kAbsent, 20, 30), put(1, 2, 6, 40, 50),
                        get(0, 1, 5, 60, 70)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, ViolationExplanationNamesKeyPrefixAndBlockedOperation) {
  const LinearizabilityResult result = check_linearizable(
      {put(0, 1, 5, 0, 10), put(0, 2, 1, 0, 10), put(0, 2, 2, 20, 30), get(1, 2, 1, 40, 50)});
  ASSERT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(result.explanation.find("key 2"), std::string::npos) << result.explanation;
  EXPECT_NE(result.explanation.find("c0 Put(k2, 2) [20, 30]"), std::string::npos)
      << result.explanation;
  EXPECT_NE(result.explanation.find("Cannot follow it: c1 Get(k2) = 1 [40, 50]"), std::string::npos)
      << result.explanation;
}

TEST(Linearizability, MalformedOperationIsRejected) {
  const LinearizabilityResult result = check_linearizable({put(0, 1, 5, 10, 9)});
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(result.explanation.rfind("malformed history", 0), 0u) << result.explanation;
}

// ---- Budget -----------------------------------------------------------------------------------

// Many mutually concurrent puts and a read of a value none of them wrote: refuting it means
// trying every subset of the puts in front of the read.
std::vector<KvOperation> expensive_violation(uint32_t key, int writers) {
  std::vector<KvOperation> history;
  for (int writer = 0; writer < writers; ++writer) {
    history.push_back(put(writer, key, writer, 0, 1000));
  }
  history.push_back(get(writers, key, 999, 0, 1000));
  return history;
}

TEST(Linearizability, ExhaustedStateBudgetIsInconclusive) {
  const LinearizabilityResult result = check_linearizable(expensive_violation(4, 14), 1000);
  EXPECT_EQ(result.verdict, Verdict::kInconclusive);
  EXPECT_NE(result.explanation.find("key 4"), std::string::npos) << result.explanation;
  EXPECT_LE(result.states_explored, 1001u);
}

TEST(Linearizability, InconclusiveKeyDoesNotHideViolationOnAnotherKey) {
  std::vector<KvOperation> history = expensive_violation(1, 14);
  history.push_back(put(0, 2, 5, 0, 10));
  history.push_back(get(1, 2, kAbsent, 20, 30));
  const LinearizabilityResult result = check_linearizable(history, 1000);
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(result.explanation.find("key 2"), std::string::npos) << result.explanation;
}

TEST(Linearizability, SmallViolationIsRefutedWithinDefaultBudget) {
  const LinearizabilityResult result = check_linearizable(expensive_violation(1, 8));
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_GT(result.states_explored, 0u);
}

// ---- Random histories -------------------------------------------------------------------------

// splitmix64: the test must produce the same history on every standard library.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64_next(state_); }
  uint64_t below(uint64_t bound) { return next() % bound; }
  bool percent(uint64_t chance) { return below(100) < chance; }

 private:
  uint64_t state_;
};

struct PlannedOperation {
  KvOperation op;
  uint64_t linearization_time = 0;
  bool takes_effect = true;
};

KvOperation random_operation(DeterministicRandom& random, int client, uint32_t keys) {
  const uint32_t key = static_cast<uint32_t>(random.below(keys));
  const int64_t value = static_cast<int64_t>(random.below(8));
  const uint64_t kind = random.below(10);
  if (kind < 4) return put(client, key, value, 0, 0);
  if (kind < 6) {
    const int64_t expected = random.percent(25) ? kAbsent : static_cast<int64_t>(random.below(8));
    return cas(client, key, expected, value, false, 0, 0);
  }
  return get(client, key, 0, 0, 0);
}

// Each client issues operations back to back; every interval contains a linearization point,
// and outcomes come from replaying a sequential map in linearization-point order. So the history
// is linearizable by construction.
std::vector<PlannedOperation> plan_operations(DeterministicRandom& random, int clients,
                                              int ops_per_client, uint32_t keys) {
  std::vector<PlannedOperation> plan;
  for (int client = 0; client < clients; ++client) {
    uint64_t now = random.below(10);
    for (int i = 0; i < ops_per_client; ++i) {
      PlannedOperation planned;
      planned.op = random_operation(random, client, keys);
      planned.op.call_time = now;
      planned.linearization_time = now + random.below(15);
      planned.op.return_time = planned.linearization_time + random.below(15);
      planned.op.outcome_known = !random.percent(5);
      planned.takes_effect = planned.op.outcome_known || random.percent(50);
      now = planned.op.return_time + random.below(5);
      plan.push_back(planned);
    }
  }
  return plan;
}

void execute_sequentially(KvOperation& op, std::map<uint32_t, int64_t>& store) {
  const auto [slot, inserted] = store.try_emplace(op.key, kAbsent);
  int64_t& current = slot->second;
  switch (op.kind) {
    case OpKind::kPut: current = op.value; break;
    case OpKind::kCas:
      op.cas_succeeded = current == op.expected;
      if (op.cas_succeeded) current = op.value;
      break;
    case OpKind::kGet: op.read_value = current; break;
  }
}

std::vector<KvOperation> random_linearizable_history(uint64_t seed) {
  DeterministicRandom random(seed);
  std::vector<PlannedOperation> plan = plan_operations(random, 5, 80, 3);
  std::stable_sort(plan.begin(), plan.end(), [](const auto& a, const auto& b) {
    return a.linearization_time < b.linearization_time;
  });
  std::map<uint32_t, int64_t> store;
  std::vector<KvOperation> history;
  for (PlannedOperation& planned : plan) {
    if (planned.takes_effect) execute_sequentially(planned.op, store);
    history.push_back(planned.op);
  }
  return history;
}

TEST(Linearizability, LargeRandomLinearizableHistoryIsAccepted) {
  const std::vector<KvOperation> history = random_linearizable_history(20240611);
  ASSERT_EQ(history.size(), 400u);
  const LinearizabilityResult result = check_linearizable(history);
  EXPECT_EQ(result.verdict, Verdict::kLinearizable) << result.explanation;
  std::cout << "[ info     ] states explored: " << result.states_explored << "\n";
}

TEST(Linearizability, LargeRandomHistoryWithOneCorruptedReadIsRejected) {
  std::vector<KvOperation> history = random_linearizable_history(20240611);
  const auto is_known_get = [](const KvOperation& op) {
    return op.kind == OpKind::kGet && op.outcome_known;
  };
  const auto middle = history.begin() + static_cast<std::ptrdiff_t>(history.size() / 2);
  auto victim = std::find_if(middle, history.end(), is_known_get);
  ASSERT_NE(victim, history.end());
  victim->read_value = 1'000'000;  // never written by anyone
  const LinearizabilityResult result = check_linearizable(history);
  EXPECT_EQ(result.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(result.explanation.find("key " + std::to_string(victim->key)), std::string::npos)
      << result.explanation;
}

// ---- Cross-check against brute force ----------------------------------------------------------

// Tries every order of the whole history (all keys in one map) that respects real time, skipping
// unknown-outcome operations at will. Exponential, but independent of the checker's pruning.
class BruteForceChecker {
 public:
  explicit BruteForceChecker(std::vector<KvOperation> history)
      : history_(std::move(history)), linearized_(history_.size(), false) {}

  bool linearizable() { return extend(); }

 private:
  bool extend() {
    if (every_known_operation_linearized()) return true;
    for (size_t i = 0; i < history_.size(); ++i) {
      if (linearized_[i] || !may_go_next(i)) continue;
      for (int64_t value_after : possible_values_after(history_[i])) {
        if (try_with(i, value_after)) return true;
      }
    }
    return false;
  }

  bool try_with(size_t i, int64_t value_after) {
    int64_t& slot = value_of(history_[i].key);
    const int64_t value_before = slot;
    slot = value_after;
    linearized_[i] = true;
    const bool found = extend();
    linearized_[i] = false;
    slot = value_before;
    return found;
  }

  // Nothing still pending may have returned before this operation was called.
  bool may_go_next(size_t candidate) const {
    for (size_t other = 0; other < history_.size(); ++other) {
      if (linearized_[other] || !history_[other].outcome_known) continue;
      if (history_[other].return_time < history_[candidate].call_time) return false;
    }
    return true;
  }

  // Empty when the operation's recorded output is impossible in the current state.
  std::vector<int64_t> possible_values_after(const KvOperation& op) {
    const int64_t current = value_of(op.key);
    const bool expected_holds = current == op.expected;
    switch (op.kind) {
      case OpKind::kPut: return {op.value};
      case OpKind::kGet:
        if (!op.outcome_known || op.read_value == current) return {current};
        return {};
      case OpKind::kCas:
        if (!op.outcome_known) return {expected_holds ? op.value : current};
        if (op.cas_succeeded != expected_holds) return {};
        return {op.cas_succeeded ? op.value : current};
    }
    return {};
  }

  bool every_known_operation_linearized() const {
    for (size_t i = 0; i < history_.size(); ++i) {
      if (history_[i].outcome_known && !linearized_[i]) return false;
    }
    return true;
  }

  int64_t& value_of(uint32_t key) { return store_.try_emplace(key, kAbsent).first->second; }

  std::vector<KvOperation> history_;
  std::vector<bool> linearized_;
  std::map<uint32_t, int64_t> store_;
};

// Arbitrary (mostly non-linearizable) histories over tiny value ranges, so that both verdicts
// are common.
std::vector<KvOperation> random_small_history(DeterministicRandom& random) {
  const auto small_value = [&random]() -> int64_t {
    const uint64_t pick = random.below(4);
    return pick == 3 ? kAbsent : static_cast<int64_t>(pick);
  };
  std::vector<KvOperation> history;
  const uint64_t size = 1 + random.below(7);
  for (uint64_t i = 0; i < size; ++i) {
    KvOperation op;
    op.client_id = static_cast<int>(i);
    op.kind = static_cast<OpKind>(random.below(3));
    op.key = static_cast<uint32_t>(random.below(2));
    op.value = small_value();
    op.expected = small_value();
    op.cas_succeeded = random.percent(50);
    op.read_value = small_value();
    op.outcome_known = !random.percent(15);
    op.call_time = random.below(20);
    op.return_time = op.call_time + random.below(10);
    history.push_back(op);
  }
  return history;
}

TEST(Linearizability, AgreesWithBruteForceOnSmallRandomHistories) {
  DeterministicRandom random(42);
  int linearizable_count = 0;
  constexpr int kHistories = 3000;
  for (int round = 0; round < kHistories; ++round) {
    const std::vector<KvOperation> history = random_small_history(random);
    const bool expected = BruteForceChecker(history).linearizable();
    const LinearizabilityResult result = check_linearizable(history);
    ASSERT_EQ(result.verdict, expected ? Verdict::kLinearizable : Verdict::kNotLinearizable)
        << "round " << round << ": " << result.explanation;
    linearizable_count += expected ? 1 : 0;
  }
  // Both verdicts must be well represented for the agreement to mean anything.
  EXPECT_GT(linearizable_count, kHistories / 5);
  EXPECT_LT(linearizable_count, kHistories * 4 / 5);
}

TEST(Linearizability, SameHistoryGivesSameResult) {
  std::vector<KvOperation> history = random_linearizable_history(7);
  history.push_back(get(9, 0, 1'000'000, 100'000, 100'010));
  const LinearizabilityResult first = check_linearizable(history);
  const LinearizabilityResult second = check_linearizable(history);
  EXPECT_EQ(first.verdict, second.verdict);
  EXPECT_EQ(first.explanation, second.explanation);
  EXPECT_EQ(first.states_explored, second.states_explored);
}

TEST(Linearizability, VerdictNamesAreReadable) {
  EXPECT_STREQ(verdict_name(Verdict::kLinearizable), "linearizable");
  EXPECT_STREQ(verdict_name(Verdict::kNotLinearizable), "not linearizable");
  EXPECT_STREQ(verdict_name(Verdict::kInconclusive), "inconclusive");
}

}  // namespace
}  // namespace dengine::sim
