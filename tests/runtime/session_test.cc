// Sessions on an EmbeddedEngine with a manual clock: a lease kept alive until closed,
// orphaned or lost.

#include "dengine/session.h"

#include <gtest/gtest.h>

#include "tests/runtime/recipe_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::seconds;

class SessionTest : public RecipeTest {
 protected:
  bool exists(const std::string& key) {
    Result<std::optional<KeyValue>> got = kv().get(key);
    EXPECT_TRUE(got) << got.status().to_string();
    return got && got->has_value();
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, SessionTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(SessionTest, ASessionKeepsItsKeysUntilClosed) {
  std::unique_ptr<Session> session = new_session(seconds(6));
  ASSERT_TRUE(session);
  EXPECT_EQ(session->ttl(), seconds(6));
  ASSERT_TRUE(kv().put("svc/a", "up", {.lease = session->lease()}));
  for (int second = 0; second < 20; ++second) advance(seconds(1));
  EXPECT_TRUE(exists("svc/a"));
  EXPECT_TRUE(session->status()) << session->status().to_string();

  ASSERT_TRUE(session->close());
  EXPECT_FALSE(exists("svc/a"));
  EXPECT_EQ(session->status().code(), StatusCode::kCancelled);
  EXPECT_EQ(session->close().detail(), ErrorDetail::kLeaseNotFound);
}

TEST_P(SessionTest, ADestroyedSessionsKeysGoOnlyWhenTheTtlPasses) {
  LeaseId lease = kNoLease;
  {
    std::unique_ptr<Session> session = new_session(seconds(6));
    ASSERT_TRUE(session);
    lease = session->lease();
    ASSERT_TRUE(kv().put("svc/b", "up", {.lease = lease}));
  }
  advance(seconds(5));
  EXPECT_TRUE(exists("svc/b"));
  advance(seconds(1));
  EXPECT_FALSE(exists("svc/b"));
}

TEST_P(SessionTest, ASessionReportsItsLeaseLost) {
  std::unique_ptr<Session> session = new_session(seconds(10));
  ASSERT_TRUE(session);
  ASSERT_TRUE(kv().revoke(session->lease()));
  advance(seconds(4));  // a renewal is due, and fails
  EXPECT_EQ(session->status().detail(), ErrorDetail::kLeaseNotFound)
      << session->status().to_string();
}

TEST_P(SessionTest, ASessionResumesAnExistingLeaseAndRefusesABadOne) {
  Result<LeaseGrantResponse> granted = kv().grant(seconds(30));
  ASSERT_TRUE(granted);
  Result<std::unique_ptr<Session>> resumed =
      Session::create(kv(), {.lease = granted->id, .clock = clock_});
  ASSERT_TRUE(resumed) << resumed.status().to_string();
  EXPECT_EQ((*resumed)->lease(), granted->id);
  EXPECT_EQ((*resumed)->ttl(), seconds(30));

  EXPECT_EQ(Session::create(kv(), {.ttl = seconds(0)}).status().code(),
            StatusCode::kInvalidArgument);
  Result<std::unique_ptr<Session>> unknown = Session::create(kv(), {.lease = 424242});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().detail(), ErrorDetail::kLeaseNotFound) << unknown.status().to_string();
}

}  // namespace
}  // namespace dengine::runtime::test
