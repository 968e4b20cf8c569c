// Lock (etcd's Mutex) on an EmbeddedEngine with a manual clock: mutual exclusion, fencing
// tokens, a holder whose lease expires, the check after waiting, timeouts and cancellation.

#include "dengine/lock.h"

#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtime/recipe_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::seconds;

class LockTest : public RecipeTest {
 protected:
  // Whether a txn guarded by `lock` still gets through.
  bool fenced_write_succeeds(const Lock& lock) {
    TxnRequest txn;
    txn.compare.push_back(lock.owner_compare());
    PutRequest put;
    put.key = "fenced";
    put.value = lock.key();
    txn.success.push_back(RequestOp{put});
    Result<TxnResponse> response = kv().txn(txn);
    EXPECT_TRUE(response) << response.status().to_string();
    return response && response->succeeded;
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, LockTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(LockTest, AnUncontendedLockIsTakenAtOnceWithItsKeysCreateRevisionAsToken) {
  std::unique_ptr<Session> session = new_session();
  ASSERT_TRUE(session);
  Lock lock(*session, "locks/a");
  Result<int64_t> token = lock.acquire();
  ASSERT_TRUE(token) << token.status().to_string();
  EXPECT_TRUE(lock.held());

  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(session->lease()));
  EXPECT_EQ(lock.key(), std::string("locks/a/") + hex);  // etcd's key format
  Result<std::optional<KeyValue>> key = kv().get(lock.key());
  ASSERT_TRUE(key && key->has_value());
  EXPECT_EQ(*token, (*key)->create_revision);
  EXPECT_EQ((*key)->lease, session->lease());
  EXPECT_TRUE(fenced_write_succeeds(lock));

  ASSERT_TRUE(lock.release());
  EXPECT_TRUE(keys_under("locks/a/").empty());
  EXPECT_FALSE(fenced_write_succeeds(lock));
  EXPECT_EQ(lock.release().code(), StatusCode::kFailedPrecondition);
}

// Each holder increments a counter stored in the engine by a read and a separate write: a lost
// update or two holders at once would show.
TEST_P(LockTest, ContendingHoldersTakeTurnsAndEachGetsTheLock) {
  constexpr int kHolders = 4;
  constexpr int kRoundsEach = 5;
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < kHolders; ++i) sessions.push_back(new_session());
  ASSERT_TRUE(kv().put("counter", "0"));

  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::mutex tokens_mutex;
  std::vector<int64_t> tokens;  // in the order the lock was taken
  auto holder = [&](Session& session) -> Status {
    Lock lock(session, "locks/counter");
    for (int round = 0; round < kRoundsEach; ++round) {
      Result<int64_t> token = lock.acquire();
      if (!token) return token.status();
      if (inside.fetch_add(1) != 0) overlapped = true;
      {
        std::lock_guard guard(tokens_mutex);
        tokens.push_back(*token);
      }
      Result<std::optional<KeyValue>> counter = session.client().get("counter");
      if (!counter || !counter->has_value()) return Status::internal("counter: unreadable");
      const int next = std::stoi((*counter)->value) + 1;
      if (auto put = session.client().put("counter", std::to_string(next)); !put) {
        return put.status();
      }
      inside.fetch_sub(1);
      if (Status released = lock.release(); !released) return released;
    }
    return Status::ok();
  };
  std::vector<std::future<Status>> holders;
  for (auto& session : sessions) {
    ASSERT_TRUE(session);
    holders.push_back(std::async(std::launch::async, holder, std::ref(*session)));
  }
  for (auto& done : holders) {
    Status status = done.get();
    EXPECT_TRUE(status) << status.to_string();
  }

  EXPECT_FALSE(overlapped);
  EXPECT_EQ(kv().get("counter").value()->value, std::to_string(kHolders * kRoundsEach));
  ASSERT_EQ(tokens.size(), static_cast<size_t>(kHolders * kRoundsEach));
  for (size_t i = 1; i < tokens.size(); ++i) EXPECT_LT(tokens[i - 1], tokens[i]);
  EXPECT_TRUE(keys_under("locks/counter/").empty());
}

TEST_P(LockTest, AHolderWhoseLeaseExpiresLosesTheLockToTheNextInLine) {
  std::unique_ptr<Session> first_session = new_session(seconds(5));
  std::unique_ptr<Session> second_session = new_session(seconds(60));
  ASSERT_TRUE(first_session && second_session);
  Lock first(*first_session, "locks/job");
  Lock second(*second_session, "locks/job");
  Result<int64_t> first_token = first.acquire();
  ASSERT_TRUE(first_token) << first_token.status().to_string();

  Watch queued = kv().watch_prefix("locks/job/");
  std::future<Result<int64_t>> second_token =
      std::async(std::launch::async, [&] { return second.acquire(); });
  await_put(queued, second.key());

  first_session->orphan();  // its process hangs: nobody renews the lease
  for (int second_passed = 0; second_passed < 5; ++second_passed) advance(seconds(1));
  Result<int64_t> taken_over = second_token.get();
  ASSERT_TRUE(taken_over) << taken_over.status().to_string();
  EXPECT_LT(*first_token, *taken_over);
  // The first holder still believes it holds the lock; its fenced writes no longer get through.
  EXPECT_TRUE(first.held());
  EXPECT_FALSE(fenced_write_succeeds(first));
  EXPECT_TRUE(fenced_write_succeeds(second));
}

TEST_P(LockTest, AWaiterWhoseKeyVanishedWhileWaitingGetsAnErrorNotTheLock) {
  std::unique_ptr<Session> holder_session = new_session();
  std::unique_ptr<Session> waiter_session = new_session();
  ASSERT_TRUE(holder_session && waiter_session);
  Lock holder(*holder_session, "locks/job");
  Lock waiter(*waiter_session, "locks/job");
  ASSERT_TRUE(holder.acquire());

  Watch queued = kv().watch_prefix("locks/job/");
  std::future<Result<int64_t>> waited =
      std::async(std::launch::async, [&] { return waiter.acquire(); });
  await_put(queued, waiter.key());
  ASSERT_TRUE(kv().revoke(waiter_session->lease()));  // the waiter's key goes with it
  ASSERT_TRUE(holder.release());

  Result<int64_t> token = waited.get();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.status().code(), StatusCode::kAborted) << token.status().to_string();
  EXPECT_FALSE(waiter.held());
  EXPECT_TRUE(keys_under("locks/job/").empty());
}

TEST_P(LockTest, AWaitThatTimesOutLeavesTheQueue) {
  std::unique_ptr<Session> holder_session = new_session();
  std::unique_ptr<Session> waiter_session = new_session();
  ASSERT_TRUE(holder_session && waiter_session);
  Lock holder(*holder_session, "locks/job");
  Lock waiter(*waiter_session, "locks/job");
  ASSERT_TRUE(holder.acquire());

  Watch queued = kv().watch_prefix("locks/job/");
  std::future<Result<int64_t>> waited = std::async(std::launch::async, [&] {
    return waiter.acquire({.timeout = std::chrono::milliseconds(3000)});
  });
  await_put(queued, waiter.key());
  advance(seconds(3));

  Result<int64_t> token = waited.get();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.status().code(), StatusCode::kTimedOut) << token.status().to_string();
  EXPECT_EQ(keys_under("locks/job/"), std::vector<std::string>{holder.key()});
  EXPECT_TRUE(fenced_write_succeeds(holder));
}

// The real clock's path (a timed wait rather than the clock's listener). The holder never
// releases, so the outcome does not depend on timing.
TEST_P(LockTest, AWaitOnTheRealClockTimesOutToo) {
  std::unique_ptr<Session> holder_session = new_session();
  Result<std::unique_ptr<Session>> waiter_session = Session::create(kv(), {.ttl = seconds(60)});
  ASSERT_TRUE(holder_session && waiter_session);
  Lock holder(*holder_session, "locks/job");
  Lock waiter(**waiter_session, "locks/job");
  ASSERT_TRUE(holder.acquire());
  Result<int64_t> token = waiter.acquire({.timeout = std::chrono::milliseconds(1)});
  ASSERT_FALSE(token);
  EXPECT_EQ(token.status().code(), StatusCode::kTimedOut) << token.status().to_string();
  EXPECT_EQ(keys_under("locks/job/"), std::vector<std::string>{holder.key()});
}

TEST_P(LockTest, AStopRequestCancelsTheWaitAndLeavesTheQueue) {
  std::unique_ptr<Session> holder_session = new_session();
  std::unique_ptr<Session> waiter_session = new_session();
  ASSERT_TRUE(holder_session && waiter_session);
  Lock holder(*holder_session, "locks/job");
  Lock waiter(*waiter_session, "locks/job");
  ASSERT_TRUE(holder.acquire());

  Watch queued = kv().watch_prefix("locks/job/");
  std::stop_source stop;
  std::future<Result<int64_t>> waited =
      std::async(std::launch::async, [&] { return waiter.acquire({.stop = stop.get_token()}); });
  await_put(queued, waiter.key());
  stop.request_stop();

  Result<int64_t> token = waited.get();
  ASSERT_FALSE(token);
  EXPECT_EQ(token.status().code(), StatusCode::kCancelled) << token.status().to_string();
  EXPECT_EQ(keys_under("locks/job/"), std::vector<std::string>{holder.key()});
}

}  // namespace
}  // namespace dengine::runtime::test
