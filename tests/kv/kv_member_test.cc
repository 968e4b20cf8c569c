// Member records: what MemberAdd, MemberUpdate, a member's publication and MemberRemove leave
// in the state machine, and that they survive a restart and travel in images, without ever
// touching the keyspace's revision.

#include <gtest/gtest.h>

#include "kv/command_codec.h"
#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvMember : public KvSemanticsTest {
 protected:
  void peer_urls(NodeId id, std::vector<std::string> urls) {
    const ApplyResult result = apply(MemberPeerUrlsRequest{id, std::move(urls)});
    ASSERT_TRUE(result.status.is_ok()) << result.status.to_string();
  }
  void publish(NodeId id, std::string name, std::vector<std::string> client_urls,
               std::vector<std::string> bootstrap_peer_urls = {}) {
    const ApplyResult result = apply(MemberPublishRequest{
        id, std::move(name), std::move(client_urls), std::move(bootstrap_peer_urls)});
    ASSERT_TRUE(result.status.is_ok()) << result.status.to_string();
  }
};
DENGINE_KV_SUITE(KvMember);

TEST_P(KvMember, AnAddedMemberHasPeerUrlsAndNoNameUntilItPublishes) {
  peer_urls(7, {"http://127.0.0.1:2380"});
  ASSERT_EQ(store().member_records().size(), 1U);
  EXPECT_EQ(store().member_records()[0],
            (MemberRecord{
                .id = 7, .name = "", .peer_urls = {"http://127.0.0.1:2380"}, .client_urls = {}}));
  publish(7, "m7", {"http://127.0.0.1:2379"}, {"http://ignored:1"});
  EXPECT_EQ(store().member_records()[0], (MemberRecord{.id = 7,
                                                       .name = "m7",
                                                       .peer_urls = {"http://127.0.0.1:2380"},
                                                       .client_urls = {"http://127.0.0.1:2379"}}));
}

TEST_P(KvMember, AnInitialMemberTakesItsPeerUrlsFromItsPublication) {
  publish(3, "m3", {"http://c"}, {"http://p1", "http://p2"});
  EXPECT_EQ(store().member_records()[0].peer_urls,
            (std::vector<std::string>{"http://p1", "http://p2"}));
  // Only MemberUpdate moves them afterwards.
  publish(3, "m3", {"http://c"}, {"http://elsewhere"});
  EXPECT_EQ(store().member_records()[0].peer_urls,
            (std::vector<std::string>{"http://p1", "http://p2"}));
  peer_urls(3, {"http://moved"});
  EXPECT_EQ(store().member_records()[0].peer_urls, std::vector<std::string>{"http://moved"});
}

TEST_P(KvMember, AnotherMembersPeerUrlIsRefused) {
  peer_urls(1, {"http://a:2380", "http://b:2380"});
  const ApplyResult taken = apply(MemberPeerUrlsRequest{2, {"http://c:2380", "http://b:2380"}});
  EXPECT_EQ(taken.status.message(), "etcdserver: Peer URLs already exists");
  ASSERT_EQ(store().member_records().size(), 1U);
  peer_urls(1, {"http://b:2380"});  // a member may keep its own
  peer_urls(2, {"http://a:2380"});  // and one it gave up is free again
  EXPECT_EQ(store().member_records().size(), 2U);
}

TEST_P(KvMember, RecordsAreInIdOrderAndRemovalForgetsOne) {
  peer_urls(9, {"http://nine"});
  peer_urls(2, {"http://two"});
  peer_urls(5, {"http://five"});
  ASSERT_EQ(store().member_records().size(), 3U);
  EXPECT_EQ(store().member_records()[0].id, 2U);
  EXPECT_EQ(store().member_records()[2].id, 9U);
  EXPECT_TRUE(apply(MemberRemoveRequest{5}).status.is_ok());
  ASSERT_EQ(store().member_records().size(), 2U);
  EXPECT_EQ(store().member_records()[1].id, 9U);
  // Removing an unknown member changes nothing and is no error: the log may repeat it.
  EXPECT_TRUE(apply(MemberRemoveRequest{5}).status.is_ok());
}

TEST_P(KvMember, MemberCommandsLeaveTheRevisionAndWatchersAlone) {
  put("a", "1");
  const int64_t revision = store().current_revision();
  const ApplyResult result = apply(MemberPeerUrlsRequest{4, {"http://four"}});
  EXPECT_EQ(result.revision, revision);
  EXPECT_TRUE(result.events.empty());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(result.response));
  publish(4, "m4", {});
  EXPECT_TRUE(apply(MemberRemoveRequest{4}).status.is_ok());
  EXPECT_EQ(store().current_revision(), revision);
}

TEST_P(KvMember, RecordsSurviveARestartOnceFlushed) {
  peer_urls(1, {"http://one"});
  publish(1, "m1", {"http://c1"});
  peer_urls(2, {"http://two"});
  EXPECT_TRUE(apply(MemberRemoveRequest{2}).status.is_ok());
  ASSERT_TRUE(store().flush().is_ok());
  const std::vector<MemberRecord> before = store().member_records();
  crash_and_recover();
  EXPECT_EQ(store().member_records(), before);
}

TEST_P(KvMember, ImagesCarryTheRecords) {
  peer_urls(1, {"http://one"});
  publish(1, "m1", {"http://c1"});
  put("k", "v");
  const std::string image = fresh_test_dir() + "/image";
  ASSERT_TRUE(store().write_snapshot(image).has_value());
  auto restored = GetParam().create();
  ASSERT_TRUE(restored->install_snapshot(image).is_ok());
  EXPECT_EQ(restored->member_records(), store().member_records());
  EXPECT_EQ(GetParam().fingerprint(*restored), GetParam().fingerprint(store()));
}

TEST_P(KvMember, MemberZeroAndOversizedFieldsDoNotEncode) {
  EXPECT_FALSE(encode_command(MemberPeerUrlsRequest{kNoNode, {"http://x"}}).has_value());
  EXPECT_FALSE(encode_command(MemberRemoveRequest{kNoNode}).has_value());
  EXPECT_FALSE(encode_command(MemberPublishRequest{1, std::string(5000, 'n'), {}, {}}).has_value());
  EXPECT_FALSE(encode_command(MemberPeerUrlsRequest{1, std::vector<std::string>(65, "http://x")})
                   .has_value());
}

}  // namespace
}  // namespace dengine::kv::test
