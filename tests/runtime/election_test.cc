// Election on an EmbeddedEngine with a manual clock: campaign, proclaim, leader, resign,
// observe, and a successor taking over after a resignation or an expired session.

#include "dengine/election.h"

#include <future>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtime/recipe_fixture.h"

namespace dengine::runtime::test {
namespace {

using std::chrono::seconds;

class ElectionTest : public RecipeTest {
 protected:
  std::string leader_value(Election& election) {
    Result<KeyValue> leader = election.leader();
    EXPECT_TRUE(leader) << leader.status().to_string();
    return leader ? leader->value : "";
  }
};

INSTANTIATE_TEST_SUITE_P(Storage, ElectionTest, testing::ValuesIn(storage_kinds()), storage_name);

TEST_P(ElectionTest, ALoneCandidateLeadsProclaimsAndResigns) {
  std::unique_ptr<Session> session = new_session();
  ASSERT_TRUE(session);
  Election election(*session, "elections/scheduler");
  EXPECT_EQ(election.leader().status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(election.campaign("10.0.0.1"));
  EXPECT_TRUE(election.leading());
  Result<KeyValue> leader = election.leader();
  ASSERT_TRUE(leader) << leader.status().to_string();
  EXPECT_EQ(leader->key, election.key());
  EXPECT_EQ(leader->value, "10.0.0.1");
  EXPECT_EQ(leader->create_revision, election.revision());

  ASSERT_TRUE(election.proclaim("10.0.0.2"));
  EXPECT_EQ(leader_value(election), "10.0.0.2");

  ASSERT_TRUE(election.resign());
  EXPECT_FALSE(election.leading());
  EXPECT_EQ(election.leader().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(election.proclaim("10.0.0.3").code(), StatusCode::kFailedPrecondition);
}

TEST_P(ElectionTest, CampaigningAgainKeepsThePlaceAndAnnouncesTheNewValue) {
  std::unique_ptr<Session> session = new_session();
  ASSERT_TRUE(session);
  Election election(*session, "elections/scheduler");
  ASSERT_TRUE(election.campaign("old"));
  const int64_t revision = election.revision();
  ASSERT_TRUE(election.campaign("new"));
  EXPECT_EQ(election.revision(), revision);
  EXPECT_EQ(leader_value(election), "new");
}

TEST_P(ElectionTest, TheNextCandidateLeadsOnceTheLeaderResigns) {
  std::unique_ptr<Session> first_session = new_session();
  std::unique_ptr<Session> second_session = new_session();
  ASSERT_TRUE(first_session && second_session);
  Election first(*first_session, "elections/scheduler");
  Election second(*second_session, "elections/scheduler");
  ASSERT_TRUE(first.campaign("first"));

  Watch queued = kv().watch_prefix("elections/scheduler/");
  std::future<Status> campaign =
      std::async(std::launch::async, [&] { return second.campaign("second"); });
  await_put(queued, second.key());
  EXPECT_EQ(leader_value(first), "first");  // queued, not leading

  ASSERT_TRUE(first.resign());
  Status led = campaign.get();
  ASSERT_TRUE(led) << led.to_string();
  EXPECT_TRUE(second.leading());
  EXPECT_EQ(leader_value(first), "second");
}

TEST_P(ElectionTest, TheNextCandidateLeadsOnceTheLeadersSessionExpires) {
  std::unique_ptr<Session> first_session = new_session(seconds(5));
  std::unique_ptr<Session> second_session = new_session(seconds(60));
  ASSERT_TRUE(first_session && second_session);
  Election first(*first_session, "elections/scheduler");
  Election second(*second_session, "elections/scheduler");
  ASSERT_TRUE(first.campaign("first"));

  Watch queued = kv().watch_prefix("elections/scheduler/");
  std::future<Status> campaign =
      std::async(std::launch::async, [&] { return second.campaign("second"); });
  await_put(queued, second.key());
  first_session->orphan();
  for (int second_passed = 0; second_passed < 5; ++second_passed) advance(seconds(1));

  Status led = campaign.get();
  ASSERT_TRUE(led) << led.to_string();
  EXPECT_EQ(leader_value(second), "second");
  // The old leader learns it lost when it acts as leader.
  EXPECT_EQ(first.proclaim("still me?").code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(first.leading());
  EXPECT_EQ(leader_value(second), "second");
}

TEST_P(ElectionTest, AnObserverSeesEachLeaderAndEachProclamation) {
  std::unique_ptr<Session> first_session = new_session();
  std::unique_ptr<Session> second_session = new_session();
  std::unique_ptr<Session> observer_session = new_session();
  ASSERT_TRUE(first_session && second_session && observer_session);
  Election first(*first_session, "elections/scheduler");
  Election second(*second_session, "elections/scheduler");
  ElectionObserver observer = Election(*observer_session, "elections/scheduler").observe();

  // There was no leader when the observation began: the first one is the first candidate.
  ASSERT_TRUE(first.campaign("one"));
  Result<KeyValue> leader = observer.next();
  ASSERT_TRUE(leader) << leader.status().to_string();
  EXPECT_EQ(leader->key, first.key());
  EXPECT_EQ(leader->value, "one");

  ASSERT_TRUE(first.proclaim("one, again"));
  leader = observer.next();
  ASSERT_TRUE(leader) << leader.status().to_string();
  EXPECT_EQ(leader->value, "one, again");

  std::future<Status> campaign =
      std::async(std::launch::async, [&] { return second.campaign("two"); });
  ASSERT_TRUE(first.resign());
  leader = observer.next();
  ASSERT_TRUE(leader) << leader.status().to_string();
  EXPECT_EQ(leader->key, second.key());
  EXPECT_EQ(leader->value, "two");
  EXPECT_TRUE(campaign.get());
}

TEST_P(ElectionTest, AnObserverMissesNoChangeMadeAfterItStarted) {
  std::unique_ptr<Session> session = new_session();
  ASSERT_TRUE(session);
  Election election(*session, "elections/scheduler");
  ASSERT_TRUE(election.campaign("one"));
  ElectionObserver observer = election.observe();
  ASSERT_TRUE(election.proclaim("two"));
  ASSERT_TRUE(election.proclaim("three"));
  for (const char* expected : {"one", "two", "three"}) {
    Result<KeyValue> leader = observer.next();
    ASSERT_TRUE(leader) << leader.status().to_string();
    EXPECT_EQ(leader->value, expected);
  }
}

TEST_P(ElectionTest, AnObserverResumesAfterAStoppedWait) {
  std::unique_ptr<Session> session = new_session();
  ASSERT_TRUE(session);
  Election election(*session, "elections/scheduler");
  ElectionObserver observer = election.observe();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(observer.next({.stop = stop.get_token()}).status().code(), StatusCode::kCancelled);

  ASSERT_TRUE(election.campaign("one"));
  Result<KeyValue> leader = observer.next();
  ASSERT_TRUE(leader) << leader.status().to_string();
  EXPECT_EQ(leader->value, "one");
}

TEST_P(ElectionTest, AWaitingCandidateWhoseKeyVanishedIsNotElected) {
  std::unique_ptr<Session> first_session = new_session();
  std::unique_ptr<Session> second_session = new_session();
  ASSERT_TRUE(first_session && second_session);
  Election first(*first_session, "elections/scheduler");
  Election second(*second_session, "elections/scheduler");
  ASSERT_TRUE(first.campaign("first"));

  Watch queued = kv().watch_prefix("elections/scheduler/");
  std::future<Status> campaign =
      std::async(std::launch::async, [&] { return second.campaign("second"); });
  await_put(queued, second.key());
  ASSERT_TRUE(kv().revoke(second_session->lease()));
  ASSERT_TRUE(first.resign());

  Status led = campaign.get();
  EXPECT_EQ(led.code(), StatusCode::kAborted) << led.to_string();
  EXPECT_FALSE(second.leading());
  EXPECT_EQ(second.leader().status().code(), StatusCode::kNotFound);
}

TEST_P(ElectionTest, ACampaignThatTimesOutWithdraws) {
  std::unique_ptr<Session> first_session = new_session();
  std::unique_ptr<Session> second_session = new_session();
  ASSERT_TRUE(first_session && second_session);
  Election first(*first_session, "elections/scheduler");
  Election second(*second_session, "elections/scheduler");
  ASSERT_TRUE(first.campaign("first"));

  Watch queued = kv().watch_prefix("elections/scheduler/");
  std::future<Status> campaign = std::async(std::launch::async, [&] {
    return second.campaign("second", {.timeout = std::chrono::milliseconds(2000)});
  });
  await_put(queued, second.key());
  advance(seconds(2));

  Status led = campaign.get();
  EXPECT_EQ(led.code(), StatusCode::kTimedOut) << led.to_string();
  EXPECT_FALSE(second.leading());
  EXPECT_EQ(keys_under("elections/scheduler/"), std::vector<std::string>{first.key()});
}

}  // namespace
}  // namespace dengine::runtime::test
