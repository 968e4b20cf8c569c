// RaftLog: the core's in-memory log and its cursors (committed, written, stable, applying).

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/raft_log.h"
#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr uint64_t kUnlimited = UINT64_MAX;

Entry entry(Index index, Term term, std::string data = {}) {
  return Entry{.term = term, .index = index, .type = EntryType::kNormal, .data = std::move(data)};
}

RaftLog recovered(const std::vector<Term>& terms, Index committed = 0, Index applied = 0) {
  return RaftLog(log_with_terms(terms), committed, applied);
}

std::vector<Index> indexes(const std::vector<Entry>& entries) {
  std::vector<Index> out;
  for (const Entry& e : entries) out.push_back(e.index);
  return out;
}

// Raft Figure 2: index 0 precedes the log (term 0), so the first append always matches there.
TEST(RaftLog, TermAtIsZeroBeforeTheLogAndUnknownPastItsEnd) {
  const RaftLog log = recovered({1, 2});
  EXPECT_EQ(log.term_at(0), Term{0});
  EXPECT_EQ(log.term_at(1), Term{1});
  EXPECT_EQ(log.term_at(2), Term{2});
  EXPECT_EQ(log.term_at(3), std::nullopt);
  EXPECT_EQ(RaftLog().last_term(), 0U);
}

// Raft §5.3: new entries after a matching prev are appended.
TEST(RaftLog, MergeAppendsEntriesAfterPrev) {
  RaftLog log = recovered({1, 1});
  EXPECT_EQ(log.merge(2, {entry(3, 1), entry(4, 2)}), 4U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 1, 2}));
  EXPECT_EQ(indexes(log.take_unwritten()), (std::vector<Index>{3, 4}));
}

// Raft §5.3: entries that agree (same index and term) are kept, including those after them.
TEST(RaftLog, MergeKeepsEntriesThatAgree) {
  RaftLog log = recovered({1, 1, 2});
  EXPECT_EQ(log.merge(1, {entry(2, 1)}), 2U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 2}));
  EXPECT_FALSE(log.has_unwritten());
  EXPECT_EQ(log.merge(3, {}), 3U) << "an empty merge vouches for prev";
}

// Raft §5.3: the first conflicting entry and all that follow it are replaced, and the storage
// cursors step back so the replacement is written and awaited anew.
TEST(RaftLog, MergeReplacesConflictingSuffix) {
  RaftLog log = recovered({1, 1, 2, 2});
  ASSERT_EQ(log.stable(), 4U);
  EXPECT_EQ(log.merge(1, {entry(2, 1), entry(3, 3)}), 3U);
  EXPECT_EQ(terms_of(log), (std::vector<Term>{1, 1, 3}));
  EXPECT_EQ(log.written(), 2U);
  EXPECT_EQ(log.stable(), 2U);
  EXPECT_EQ(indexes(log.take_unwritten()), (std::vector<Index>{3}));
}

// Raft §5.4 (Leader Completeness): a committed entry is never overwritten; the core checks it.
TEST(RaftLog, MergeRefusesToOverwriteCommittedEntry) {
  ScopedThrowingCheckHandler throwing;
  RaftLog log = recovered({1, 1}, /*committed=*/2);
  EXPECT_THROW(log.merge(1, {entry(2, 2)}), CheckFailure);
}

// The fast back-off's search: the last index at or before `index` whose term is <= `term`.
TEST(RaftLog, LastIndexWithTermAtMost) {
  const RaftLog log = recovered({1, 1, 1, 4, 4, 5, 5, 6, 6, 6});  // Figure 7's leader
  struct Case {
    Index index;
    Term term;
    Index expected;
  };
  for (const Case c :
       {Case{10, 6, 10}, Case{10, 5, 7}, Case{10, 4, 5}, Case{10, 3, 3}, Case{10, 0, 0},
        Case{20, 6, 10}, Case{6, 4, 5}, Case{2, 9, 2}, Case{0, 6, 0}}) {
    EXPECT_EQ(log.last_index_with_term_at_most(c.index, c.term), c.expected)
        << "index " << c.index << " term " << c.term;
  }
}

// Raft §5.4.1: higher last term wins; with equal last terms, the longer log.
TEST(RaftLog, CandidateIsUpToDate) {
  const RaftLog log = recovered({1, 2, 2});
  struct Case {
    Index last_index;
    Term last_term;
    bool expected;
  };
  for (const Case c : {Case{3, 2, true}, Case{4, 2, true}, Case{2, 2, false}, Case{10, 1, false},
                       Case{1, 3, true}, Case{0, 0, false}}) {
    EXPECT_EQ(log.candidate_is_up_to_date(c.last_index, c.last_term), c.expected)
        << "candidate last (" << c.last_index << ", " << c.last_term << ")";
  }
  EXPECT_TRUE(RaftLog().candidate_is_up_to_date(0, 0)) << "two empty logs are equal";
}

// Thesis §10.2.1: appends are bounded in bytes, yet an entry larger than the bound still goes.
TEST(RaftLog, SliceRespectsByteLimitButReturnsAtLeastOneEntry) {
  std::vector<Entry> entries;
  for (Index i = 1; i <= 4; ++i) entries.push_back(entry(i, 1, std::string(1000, 'x')));
  const RaftLog log(entries, 0, 0);
  EXPECT_EQ(indexes(log.slice(1, 1)), (std::vector<Index>{1})) << "at least one entry";
  EXPECT_EQ(indexes(log.slice(1, 2500)), (std::vector<Index>{1, 2}));
  EXPECT_EQ(indexes(log.slice(2, kUnlimited)), (std::vector<Index>{2, 3, 4}));
  EXPECT_TRUE(log.slice(5, kUnlimited).empty());
}

// Ready contract: entries are applied only once committed and locally durable.
TEST(RaftLog, TakeEntriesToApplyStopsAtStable) {
  RaftLog log = recovered({1, 1});
  log.append(entry(3, 1));
  log.append(entry(4, 1));
  log.take_unwritten();
  log.commit_to(4);
  EXPECT_EQ(indexes(log.take_entries_to_apply(kUnlimited)), (std::vector<Index>{1, 2}));
  EXPECT_FALSE(log.has_entries_to_apply());
  log.stable_to(4, 1);
  EXPECT_EQ(indexes(log.take_entries_to_apply(kUnlimited)), (std::vector<Index>{3, 4}));
}

// Raft §5.3: "the leader decides when it is safe to apply": only committed entries are applied.
TEST(RaftLog, TakeEntriesToApplyStopsAtCommitted) {
  RaftLog log = recovered({1, 1, 1}, /*committed=*/2);
  EXPECT_EQ(indexes(log.take_entries_to_apply(kUnlimited)), (std::vector<Index>{1, 2}));
  EXPECT_EQ(log.applying(), 2U);
}

// Ready contract (max_apply_bytes): applies are batched by bytes, at least one entry each.
TEST(RaftLog, TakeEntriesToApplyRespectsByteLimitButTakesAtLeastOne) {
  std::vector<Entry> entries;
  for (Index i = 1; i <= 3; ++i) entries.push_back(entry(i, 1, std::string(1000, 'x')));
  RaftLog log(entries, /*committed=*/3, /*applied=*/0);
  EXPECT_EQ(indexes(log.take_entries_to_apply(1)), (std::vector<Index>{1}));
  EXPECT_EQ(indexes(log.take_entries_to_apply(2500)), (std::vector<Index>{2, 3}));
  log.applied_to(3);
  EXPECT_EQ(log.applied(), 3U);
}

// Raft Figure 2: commitIndex increases monotonically.
TEST(RaftLog, CommitToNeverDecreases) {
  RaftLog log = recovered({1, 1, 1}, /*committed=*/2);
  log.commit_to(1);
  EXPECT_EQ(log.committed(), 2U);
  log.commit_to(3);
  EXPECT_EQ(log.committed(), 3U);
}

// A write whose last entry was since replaced proves nothing about the replacement.
TEST(RaftLog, StableToIgnoresWriteWhoseEntriesWereReplaced) {
  RaftLog log;
  log.merge(0, {entry(1, 1), entry(2, 1)});
  log.take_unwritten();         // write A: entries 1..2 of term 1
  log.merge(1, {entry(2, 2)});  // entry 2 replaced before A is durable
  log.stable_to(2, 1);          // A completes
  EXPECT_EQ(log.stable(), 0U);
  log.take_unwritten();  // write B: entry 2 of term 2
  log.stable_to(2, 2);
  EXPECT_EQ(log.stable(), 2U);
}

}  // namespace
}  // namespace dengine::raft::test
