// Member and cluster ids must be etcd's, bit for bit: etcd clients and tools see them, and every
// member of a new cluster computes all of them independently from its flags.
//
// The expected values come from etcd v3.4.23's recipe (membership/member.go newMember,
// cluster.go genID) run by hand in Python:
//   member_id  = be64(sha1("".join(sorted(peer_urls)) + token)[:8])
//   cluster_id = be64(sha1(b"".join(be64bytes(id) for id in sorted(ids)))[:8])

#include "cluster/member_identity.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/member_config.h"

namespace dengine::cluster::test {
namespace {

MemberConfig parsed(const std::vector<std::string>& args) {
  const std::map<std::string, std::string> no_environment;
  auto config = parse_member_config(args, no_environment);
  if (!config.has_value()) {
    ADD_FAILURE() << config.status().to_string();
    return MemberConfig{};
  }
  return std::move(config).value();
}

ClusterIdentity identity_of(const MemberConfig& config) {
  auto identity = derive_identity(config);
  EXPECT_TRUE(identity.has_value()) << identity.status().to_string();
  return identity.has_value() ? *identity : ClusterIdentity{};
}

std::vector<Url> urls(const std::string& list) {
  auto parsed_urls = parse_url_list(list, "test");
  EXPECT_TRUE(parsed_urls.has_value());
  return parsed_urls.has_value() ? *parsed_urls : std::vector<Url>{};
}

constexpr const char* kThreeMembers =
    "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380";

MemberConfig three_member_config(const std::string& name, const std::string& peer_url) {
  return parsed({"--name", name, "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
                 kThreeMembers});
}

// `etcd` with no flags reports member 8e9e05c52164694d in cluster cdf818194e3a8c32.
TEST(MemberIdentity, EtcdDefaultMemberHasItsWellKnownIds) {
  const MemberConfig config = parsed({"--initial-advertise-peer-urls", "http://localhost:2380",
                                      "--initial-cluster", "default=http://localhost:2380"});
  const ClusterIdentity identity = identity_of(config);
  EXPECT_EQ(identity.member_id, 0x8e9e05c52164694dULL);
  EXPECT_EQ(identity.cluster_id, 0xcdf818194e3a8c32ULL);
  EXPECT_EQ(format_id(identity.member_id), "8e9e05c52164694d");
  EXPECT_EQ(format_id(identity.cluster_id), "cdf818194e3a8c32");
}

TEST(MemberIdentity, ThreeMembersGetEtcdsThreeDistinctIds) {
  const ClusterIdentity identity =
      identity_of(three_member_config("infra0", "http://10.0.1.10:2380"));
  ASSERT_EQ(identity.members.size(), 3u);
  std::set<std::string> ids;
  for (const MemberIdentity& member : identity.members) ids.insert(format_id(member.id));
  EXPECT_EQ(ids,
            (std::set<std::string>{"794aea3ba77a1d64", "e25938377bdd2340", "9d480e1db4ddec45"}));
  EXPECT_EQ(format_id(identity.member_id), "794aea3ba77a1d64");
}

TEST(MemberIdentity, EveryMemberOfThreeComputesTheSameClusterId) {
  const ClusterIdentity a = identity_of(three_member_config("infra0", "http://10.0.1.10:2380"));
  const ClusterIdentity b = identity_of(three_member_config("infra1", "http://10.0.1.11:2380"));
  const ClusterIdentity c = identity_of(three_member_config("infra2", "http://10.0.1.12:2380"));
  EXPECT_EQ(format_id(a.cluster_id), "e33cd1f1301c41a0");
  EXPECT_EQ(a.cluster_id, b.cluster_id);
  EXPECT_EQ(b.cluster_id, c.cluster_id);
  EXPECT_NE(a.member_id, b.member_id);
  EXPECT_NE(b.member_id, c.member_id);
  EXPECT_NE(a.member_id, c.member_id);
}

TEST(MemberIdentity, MembersAreListedInAscendingIdOrder) {
  const ClusterIdentity identity =
      identity_of(three_member_config("infra1", "http://10.0.1.11:2380"));
  ASSERT_EQ(identity.members.size(), 3u);
  EXPECT_EQ(identity.members[0].name, "infra0");  // 794a… < 9d48… < e259…
  EXPECT_EQ(identity.members[1].name, "infra2");
  EXPECT_EQ(identity.members[2].name, "infra1");
  EXPECT_EQ(identity.members[2].id, identity.member_id);
}

TEST(MemberIdentity, OrderOfInitialClusterEntriesDoesNotMatter) {
  const MemberConfig reordered = parsed(
      {"--name", "infra0", "--initial-advertise-peer-urls", "http://10.0.1.10:2380",
       "--initial-cluster",
       "infra2=http://10.0.1.12:2380,infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380"});
  EXPECT_EQ(identity_of(reordered).cluster_id,
            identity_of(three_member_config("infra0", "http://10.0.1.10:2380")).cluster_id);
}

TEST(MemberIdentity, MemberIdHashesSortedPeerUrlsThenToken) {
  EXPECT_EQ(format_id(compute_member_id(urls("http://10.0.0.2:2380,http://10.0.0.1:2380"), "tok")),
            "d3b8edf9430e965");
  EXPECT_EQ(compute_member_id(urls("http://10.0.0.2:2380,http://10.0.0.1:2380"), "tok"),
            compute_member_id(urls("http://10.0.0.1:2380,http://10.0.0.2:2380"), "tok"));
}

TEST(MemberIdentity, TokenSeparatesOtherwiseIdenticalClusters) {
  const std::vector<Url> peer = urls("http://localhost:2380");
  EXPECT_NE(compute_member_id(peer, "etcd-cluster"), compute_member_id(peer, "etcd-cluster-2"));
}

TEST(MemberIdentity, ClusterIdIgnoresTheOrderOfMemberIds) {
  const std::vector<uint64_t> forward = {1, 2, 3};
  const std::vector<uint64_t> backward = {3, 2, 1};
  EXPECT_EQ(compute_cluster_id(forward), compute_cluster_id(backward));
}

TEST(MemberIdentity, MissingLocalMemberIsAnError) {
  MemberConfig config;
  config.name = "nobody";
  auto identity = derive_identity(config);
  ASSERT_FALSE(identity.has_value());
  EXPECT_EQ(identity.status().message(),
            "couldn't find local name \"nobody\" in the initial cluster configuration");
}

TEST(MemberIdentity, IdIsFormattedAsHexWithoutLeadingZeros) {
  EXPECT_EQ(format_id(0xa), "a");
  EXPECT_EQ(format_id(0x0d3b8edf9430e965ULL), "d3b8edf9430e965");
}

}  // namespace
}  // namespace dengine::cluster::test
