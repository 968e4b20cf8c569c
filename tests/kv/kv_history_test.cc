// The event history behind watches: events from any uncompacted revision, in revision order,
// with prev_kv when asked, in bounded batches that never split a revision.

#include <tuple>

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvHistory : public KvSemanticsTest {};
DENGINE_KV_SUITE(KvHistory);

// {type, key, mod revision, prev_kv's mod revision or 0 when absent}
using EventSummary = std::tuple<EventType, std::string, int64_t, int64_t>;

std::vector<EventSummary> summarize(const std::vector<Event>& events) {
  std::vector<EventSummary> summary;
  for (const Event& e : events) {
    summary.emplace_back(e.type, e.kv.key, e.kv.mod_revision,
                         e.prev_kv ? e.prev_kv->mod_revision : 0);
  }
  return summary;
}

constexpr EventType kPut = EventType::kPut;
constexpr EventType kDelete = EventType::kDelete;

TEST_P(KvHistory, ReplaysEveryChangeInRevisionOrder) {
  put("a", "1");  // 2
  TxnRequest request;
  request.success = {op_put("c", "1"), op_put("b", "1")};
  txn(request);  // 3: c then b, in write order
  del("a");      // 4
  const std::vector<Event> events = events_from(2);
  EXPECT_EQ(summarize(events),
            (std::vector<EventSummary>{
                {kPut, "a", 2, 0}, {kPut, "c", 3, 0}, {kPut, "b", 3, 0}, {kDelete, "a", 4, 0}}));
  EXPECT_EQ(summarize(events_from(3)).size(), 3U);
}

TEST_P(KvHistory, EventsCarryPrevKvWhenAsked) {
  put("k", "1");  // 2
  put("k", "2");  // 3
  del("k");       // 4
  const std::vector<Event> events = events_from(2, /*prev_kv=*/true);
  ASSERT_EQ(events.size(), 3U);
  EXPECT_FALSE(events[0].prev_kv.has_value());  // the creating put
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "1");
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "2");
  EXPECT_FALSE(events_from(2, /*prev_kv=*/false)[1].prev_kv.has_value());
}

TEST_P(KvHistory, DeleteEventHoldsOnlyTheKeyAndItsRevision) {
  put("k", "1");
  del("k");
  const std::vector<Event> events = events_from(3);
  ASSERT_EQ(events.size(), 1U);
  const KeyValue expected{.key = "k",
                          .create_revision = 0,
                          .mod_revision = 3,
                          .version = 0,
                          .value = {},
                          .lease = kNoLease};
  EXPECT_EQ(events[0].kv, expected);
}

TEST_P(KvHistory, EventsAreFilteredByTheRange) {
  put("a/1", "x");
  put("b", "x");
  put("a/2", "x");
  EXPECT_EQ(keys_of({events_from(1, false, "a/", prefix_end("a/"))[0].kv,
                     events_from(1, false, "a/", prefix_end("a/"))[1].kv}),
            (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(events_from(1, false, "b", "").size(), 1U);
}

TEST_P(KvHistory, ApplyResultEventsMatchTheHistory) {
  put("k", "1");
  const ApplyResult result = apply(put_request("k", "2"));
  EXPECT_EQ(result.events, events_from(3, /*prev_kv=*/true));
}

// etcd 3.4.23: the same writes (its revisions shifted by six), compacted at 3, then a watch
// from 3 with prev_kv: what compaction kept at 3 is replayed, earlier prev_kvs are gone.
TEST_P(KvHistory, ReplaysWhatARealEtcdReplayedAfterCompaction) {
  TxnRequest request;
  request.success = {op_put("s/a", "3"), op_put("s/b", "1"), op_put("s/c", "2")};
  txn(request);       // 2
  put("s/b", "9");    // 3
  put("s/b", "0");    // 4
  put("s/d", "0");    // 5
  del("s/b");         // 6
  put("s/b", "new");  // 7
  compact(3);
  put("s/a", "y");  // 8
  grant(500, 600);
  grant(501, 600);
  PutRequest attach = put_request("s/a", "");
  attach.lease = 500;
  attach.ignore_value = true;
  put(attach);            // 9
  put("s/c", "l", 500);   // 10
  put("s/d", "l", 501);   // 11
  put("s/d", "l2", 500);  // 12
  put("s/c", "nolease");  // 13
  revoke(500);            // 14: deletes s/a and s/d
  put("s/y", "y");        // 15

  EXPECT_EQ(summarize(events_from(3, /*prev_kv=*/true, "s/", prefix_end("s/"))),
            (std::vector<EventSummary>{{kPut, "s/b", 3, 0},
                                       {kPut, "s/b", 4, 3},
                                       {kPut, "s/d", 5, 0},
                                       {kDelete, "s/b", 6, 4},
                                       {kPut, "s/b", 7, 0},
                                       {kPut, "s/a", 8, 2},
                                       {kPut, "s/a", 9, 8},
                                       {kPut, "s/c", 10, 2},
                                       {kPut, "s/d", 11, 5},
                                       {kPut, "s/d", 12, 11},
                                       {kPut, "s/c", 13, 10},
                                       {kDelete, "s/a", 14, 9},
                                       {kDelete, "s/d", 14, 12},
                                       {kPut, "s/y", 15, 0}}));
  EventQuery too_old;
  too_old.key = "s/";
  too_old.range_end = prefix_end("s/");
  too_old.start_revision = 2;
  const Result<EventBatch> refused = store().events(too_old);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.status().detail(), ErrorDetail::kCompacted);
}

TEST_P(KvHistory, BatchesNeverSplitARevision) {
  put("a", "1");  // 2
  TxnRequest request;
  request.success = {op_put("b", "1"), op_put("c", "1"), op_put("d", "1")};
  txn(request);   // 3
  put("e", "1");  // 4
  EventQuery query;
  query.key = kAllKeys;
  query.range_end = kAllKeys;
  query.start_revision = 2;
  query.max_revisions = 2;
  Result<EventBatch> first = store().events(query);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->events.size(), 4U);  // revisions 2 and 3, all of 3
  EXPECT_EQ(first->next_revision, 4);
  query.start_revision = first->next_revision;
  Result<EventBatch> second = store().events(query);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(keys_of({second->events.at(0).kv}), (std::vector<std::string>{"e"}));
  EXPECT_EQ(second->next_revision, 5);  // caught up: current revision + 1
}

TEST_P(KvHistory, StartAtZeroOrInTheFutureHasNoEventsYet) {
  put("a", "1");
  EventQuery query;
  query.key = "a";
  query.start_revision = 0;
  Result<EventBatch> now = store().events(query);
  ASSERT_TRUE(now.has_value());
  EXPECT_TRUE(now->events.empty());
  EXPECT_EQ(now->next_revision, 3);
  query.start_revision = 10;
  Result<EventBatch> future = store().events(query);
  ASSERT_TRUE(future.has_value());
  EXPECT_TRUE(future->events.empty());
  EXPECT_EQ(future->next_revision, 10);
}

TEST_P(KvHistory, ZeroMaxRevisionsIsRefused) {
  EventQuery query;
  query.key = "a";
  query.start_revision = 1;
  query.max_revisions = 0;
  EXPECT_FALSE(store().events(query).has_value());
}

}  // namespace
}  // namespace dengine::kv::test
