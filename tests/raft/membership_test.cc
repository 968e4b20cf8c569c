// Membership changes: single changes in one step (Raft thesis §4.1) and several at once through
// joint consensus (thesis §4.3): the joint configuration's quorums, the rules for changing
// configurations, the kConfChange entry codec, and how a RaftNode proposes, replicates and adopts
// configurations — with learners, leader removal and snapshots.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "raft/conf_change_codec.h"
#include "raft/joint_config.h"
#include "raft/majority.h"
#include "tests/raft/raft_test_util.h"

namespace dengine::raft::test {
namespace {

constexpr int kEt = kElectionTimeoutTicks;
using Kind = ConfChangeEntry::Kind;

// ---- changes and configurations ----

ConfChange add_voter(NodeId node) {
  return ConfChange{.op = ConfChangeOp::kAddVoter, .node = node};
}
ConfChange add_learner(NodeId node) {
  return ConfChange{.op = ConfChangeOp::kAddLearner, .node = node};
}
ConfChange remove_node(NodeId node) {
  return ConfChange{.op = ConfChangeOp::kRemoveNode, .node = node};
}

ConfState conf(std::vector<NodeId> voters, std::vector<NodeId> outgoing = {},
               std::vector<NodeId> learners = {}) {
  return ConfState{.voters = std::move(voters),
                   .voters_outgoing = std::move(outgoing),
                   .learners = std::move(learners)};
}

Membership membership(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  return Membership::from(conf(std::move(voters), {}, std::move(learners)));
}

std::string describe(const std::vector<NodeId>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

std::string describe(const ConfState& c) {
  return "voters " + describe(c.voters) + " outgoing " + describe(c.voters_outgoing) +
         " learners " + describe(c.learners);
}

// ConfStates compared with a readable failure message.
::testing::AssertionResult same_conf(const ConfState& actual, const ConfState& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "configuration is " << describe(actual) << ", expected " << describe(expected);
}

// Each listed node's match index; every other node holds nothing.
std::function<Index(NodeId)> match_indexes(std::map<NodeId, Index> matches) {
  return [by_node = std::move(matches)](NodeId node) {
    auto it = by_node.find(node);
    return it == by_node.end() ? Index{0} : it->second;
  };
}

std::map<NodeId, bool> ballots(const std::vector<NodeId>& granted,
                               const std::vector<NodeId>& rejected = {}) {
  std::map<NodeId, bool> votes;
  for (NodeId node : granted) votes[node] = true;
  for (NodeId node : rejected) votes[node] = false;
  return votes;
}

std::function<bool(NodeId)> among(std::vector<NodeId> nodes) {
  return [set = std::move(nodes)](NodeId node) {
    return std::find(set.begin(), set.end(), node) != set.end();
  };
}

// ---- entries ----

Entry enter_joint_entry(Term term, Index index, std::vector<ConfChange> changes) {
  return Entry{.term = term,
               .index = index,
               .type = EntryType::kConfChange,
               .data = encode_conf_change(
                   ConfChangeEntry{.kind = Kind::kEnterJoint, .changes = std::move(changes)})};
}

Entry simple_entry(Term term, Index index, ConfChange change) {
  return Entry{
      .term = term,
      .index = index,
      .type = EntryType::kConfChange,
      .data = encode_conf_change(ConfChangeEntry{.kind = Kind::kSimple, .changes = {change}})};
}

Entry leave_joint_entry(Term term, Index index) {
  return Entry{
      .term = term,
      .index = index,
      .type = EntryType::kConfChange,
      .data = encode_conf_change(ConfChangeEntry{.kind = Kind::kLeaveJoint, .changes = {}})};
}

Entry no_op(Term term, Index index) {
  return Entry{.term = term, .index = index, .type = EntryType::kNoOp, .data = {}};
}

// The kinds of the configuration entries among `entries`, in order.
std::vector<Kind> conf_change_kinds(const std::vector<Entry>& entries) {
  std::vector<Kind> kinds;
  for (const Entry& entry : entries) {
    if (entry.type != EntryType::kConfChange) continue;
    Result<ConfChangeEntry> decoded = decode_conf_change(entry.data);
    if (decoded) kinds.push_back(decoded->kind);
  }
  return kinds;
}

// An append carrying any entry past `index`.
bool appends_past(const Message& m, Index index) {
  return m.type == MessageType::kAppend && !m.entries.empty() && m.entries.back().index > index;
}

bool is_campaign_message(const Message& m) {
  return m.type == MessageType::kPreVote || m.type == MessageType::kVote;
}

// ---- nodes ----

// A node recovered from storage with an arbitrary log (NodeBuilder only writes kNormal entries).
std::unique_ptr<RaftNode> recovered_node(const RaftConfig& config, std::vector<Entry> entries,
                                         HardState hard_state, Index applied) {
  RaftBootState boot;
  boot.entries = std::move(entries);
  boot.hard_state = hard_state;
  boot.applied = applied;
  Result<std::unique_ptr<RaftNode>> node = RaftNode::create(config, std::move(boot));
  if (!node) throw std::runtime_error("RaftNode::create: " + node.status().to_string());
  return std::move(node).value();
}

// A node about to join a running cluster whose voters are `cluster`. RaftConfig::voters must
// name the node itself, so the configuration it joins comes as an image at index 0 (see
// RaftMembership.JoiningNodeBootedAsVoterReplicatesItsOwnAddition).
std::unique_ptr<RaftNode> joining_node(NodeId id, const std::vector<NodeId>& cluster,
                                       const std::function<void(ConfigBuilder&)>& tweak = {}) {
  ConfigBuilder config(id, {id});
  if (tweak) tweak(config);
  return NodeBuilder(config.build())
      .snapshot(SnapshotMeta{.index = 0, .term = 0, .conf = conf(cluster)})
      .build();
}

// The voters of a freshly booted cluster, and nodes waiting to be added to it.
std::vector<std::unique_ptr<RaftNode>> cluster(
    const std::vector<NodeId>& voters, const std::vector<NodeId>& joiners,
    const std::function<void(ConfigBuilder&)>& tweak = {}) {
  std::vector<std::unique_ptr<RaftNode>> nodes;
  for (NodeId id : voters) {
    ConfigBuilder config(id, voters);
    if (tweak) tweak(config);
    nodes.push_back(NodeBuilder(config.build()).build());
  }
  for (NodeId id : joiners) nodes.push_back(joining_node(id, voters, tweak));
  return nodes;
}

// Ticks every node until one of `candidates` leads; returns it (kNoNode if none did).
NodeId advance_until_leader_among(TestNetwork& net, const std::vector<NodeId>& candidates) {
  for (int tick = 0; tick < 20 * kEt; ++tick) {
    net.advance(1);
    for (NodeId id : candidates) {
      if (net.node(id).role() == RaftRole::kLeader) return id;
    }
  }
  return kNoNode;
}

// ---- JointConfig: quorums of C_old,new ----

// Thesis §4.3: in C_old,new "agreement (for elections and entry commitment) requires separate
// majorities from both the old and new configurations".
TEST(JointConfig, CommittedIndexIsTheLowerOfBothMajorities) {
  const JointConfig joint(MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5}));
  // A majority of {1,2,3} holds 7, of {3,4,5} only 2.
  EXPECT_EQ(joint.committed_index(match_indexes({{1, 7}, {2, 7}, {3, 2}, {4, 2}, {5, 1}})), 2U);
  // A majority of {3,4,5} holds 9, of {1,2,3} only 1.
  EXPECT_EQ(joint.committed_index(match_indexes({{1, 1}, {2, 1}, {3, 5}, {4, 9}, {5, 9}})), 1U);
}

// Raft §5.3: outside a joint configuration one majority decides.
TEST(JointConfig, SimpleConfigurationCommitsOnOneMajority) {
  const JointConfig simple(MajorityConfig({1, 2, 3}));
  EXPECT_FALSE(simple.is_joint());
  EXPECT_EQ(simple.committed_index(match_indexes({{1, 7}, {2, 4}, {3, 1}})), 4U);
}

// Thesis §4.3: a candidate needs a majority of both halves.
TEST(JointConfig, VoteIsWonOnlyWithMajoritiesOfBothHalves) {
  const JointConfig joint(MajorityConfig({1, 2, 3}), MajorityConfig({1, 4, 5}));
  EXPECT_EQ(joint.vote_result(ballots({1, 2, 3})), VoteResult::kPending);  // old half undecided
  EXPECT_EQ(joint.vote_result(ballots({1, 4, 5})), VoteResult::kPending);  // new half undecided
  EXPECT_EQ(joint.vote_result(ballots({1, 2, 4})), VoteResult::kWon);
}

// Thesis §4.3: once either half can no longer give a majority, the election is lost.
TEST(JointConfig, VoteIsLostWhenEitherHalfIsLost) {
  const JointConfig joint(MajorityConfig({1, 2, 3}), MajorityConfig({1, 4, 5}));
  EXPECT_EQ(joint.vote_result(ballots({1, 2, 3}, {4, 5})), VoteResult::kLost);
  EXPECT_EQ(joint.vote_result(ballots({1, 4, 5}, {2, 3})), VoteResult::kLost);
}

// Thesis §6.2 with §4.3: check-quorum needs an active majority in both halves.
TEST(JointConfig, QuorumSatisfiesNeedsBothHalves) {
  const JointConfig joint(MajorityConfig({1, 2, 3}), MajorityConfig({1, 4, 5}));
  EXPECT_FALSE(joint.quorum_satisfies(among({1, 2, 3})));
  EXPECT_FALSE(joint.quorum_satisfies(among({1, 4, 5})));
  EXPECT_TRUE(joint.quorum_satisfies(among({1, 2, 4})));
}

// Thesis §4.3: every server of either configuration votes and receives the log.
TEST(JointConfig, AllVotersIsTheUnionOfBothHalves) {
  const JointConfig joint(MajorityConfig({3, 1, 2}), MajorityConfig({5, 3, 4}));
  EXPECT_TRUE(joint.is_joint());
  EXPECT_EQ(joint.all_voters(), (std::vector<NodeId>{1, 2, 3, 4, 5}));
}

// Every subset of `universe` (for exhaustive quorum checks).
std::vector<std::vector<NodeId>> subsets_of(const std::vector<NodeId>& universe) {
  std::vector<std::vector<NodeId>> out;
  for (uint32_t mask = 0; mask < (1U << universe.size()); ++mask) {
    std::vector<NodeId> subset;
    for (size_t i = 0; i < universe.size(); ++i) {
      if ((mask & (1U << i)) != 0) subset.push_back(universe[i]);
    }
    out.push_back(std::move(subset));
  }
  return out;
}

bool disjoint(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId node : a) {
    if (std::find(b.begin(), b.end(), node) != b.end()) return false;
  }
  return true;
}

// Raft §6, Figure 10 — the bug joint consensus avoids: switching directly from one configuration
// to another is unsafe because servers switch at different times. Shrinking {1,2,3,4,5} to
// {1,2,3}, servers still on C_old can elect with {3,4,5} while servers on C_new elect with {1,2}:
// two majorities with no server in common, so two leaders in one term.
TEST(JointConfig, DirectSwitchAllowsTwoDisjointMajorities) {
  const MajorityConfig old_config({1, 2, 3, 4, 5});
  const MajorityConfig new_config({1, 2, 3});
  EXPECT_EQ(old_config.vote_result(ballots({3, 4, 5})), VoteResult::kWon);
  EXPECT_EQ(new_config.vote_result(ballots({1, 2})), VoteResult::kWon);
  EXPECT_TRUE(disjoint({3, 4, 5}, {1, 2}));
  // The same holds for commitment: an entry on {3,4,5} and a different one on {1,2}.
  EXPECT_EQ(old_config.committed_index(match_indexes({{3, 1}, {4, 1}, {5, 1}})), 1U);
  EXPECT_EQ(new_config.committed_index(match_indexes({{1, 1}, {2, 1}})), 1U);
}

// Thesis §4.3: C_old,new needs both majorities, so no two of its quorums are disjoint — neither
// {3,4,5} nor {1,2} alone decides anything.
TEST(JointConfig, JointConfigurationQuorumsAlwaysOverlap) {
  const JointConfig joint(MajorityConfig({1, 2, 3}), MajorityConfig({1, 2, 3, 4, 5}));
  EXPECT_NE(joint.vote_result(ballots({3, 4, 5})), VoteResult::kWon);
  EXPECT_NE(joint.vote_result(ballots({1, 2})), VoteResult::kWon);
  EXPECT_EQ(joint.committed_index(match_indexes({{3, 1}, {4, 1}, {5, 1}})), 0U);
  EXPECT_EQ(joint.committed_index(match_indexes({{1, 1}, {2, 1}})), 0U);

  std::vector<std::vector<NodeId>> winning;
  for (const std::vector<NodeId>& subset : subsets_of({1, 2, 3, 4, 5})) {
    if (joint.vote_result(ballots(subset)) == VoteResult::kWon) winning.push_back(subset);
  }
  ASSERT_FALSE(winning.empty());
  for (const auto& a : winning) {
    for (const auto& b : winning) {
      EXPECT_FALSE(disjoint(a, b)) << describe(a) << " and " << describe(b);
    }
  }
}

// ---- ConfChangeRules: simple_change / enter_joint / leave_joint ----

StatusCode code_of(const Result<Membership>& result) {
  return result.status().code();
}

// Thesis §4.1: a single change goes straight from C_old to C_new.
TEST(ConfChangeRules, SimpleChangeSwitchesStraightToTheNewConfiguration) {
  Result<Membership> next = simple_change(membership({1, 2, 3}), {add_voter(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_FALSE(next->voters.is_joint());
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3, 4})));
}

// Thesis §4.1: the one-member cluster grows to two in one step.
TEST(ConfChangeRules, SimpleChangeAddsASecondVoterToALoneVoter) {
  Result<Membership> next = simple_change(membership({1}), {add_voter(2)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2})));
}

TEST(ConfChangeRules, SimpleChangeRemovesAVoter) {
  Result<Membership> next = simple_change(membership({1, 2, 3}), {remove_node(2)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 3})));
}

// Thesis §4.2.1: promoting a caught-up learner changes one voter.
TEST(ConfChangeRules, SimpleChangePromotesALearner) {
  Result<Membership> next = simple_change(membership({1, 2, 3}, {4}), {add_voter(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3, 4})));
  EXPECT_FALSE(next->is_learner(4));
}

// Learners do not vote, so adding or removing one changes no majority.
TEST(ConfChangeRules, SimpleChangeAddsAndRemovesLearners) {
  Result<Membership> added = simple_change(membership({1, 2, 3}), {add_learner(4)});
  ASSERT_TRUE(added.has_value()) << added.status().to_string();
  EXPECT_TRUE(same_conf(added->to_conf_state(), conf({1, 2, 3}, {}, {4})));
  Result<Membership> removed = simple_change(*added, {remove_node(4)});
  ASSERT_TRUE(removed.has_value()) << removed.status().to_string();
  EXPECT_TRUE(same_conf(removed->to_conf_state(), conf({1, 2, 3})));
}

// Thesis §4.1 (Figure 4.3's argument): with two voters changed, a majority of C_old and one of
// C_new may be disjoint; etcd-raft's Changer.Simple refuses the same.
TEST(ConfChangeRules, SimpleChangeRefusesMoreThanOneVoter) {
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {add_voter(4), add_voter(5)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {add_voter(4), remove_node(3)})),
            StatusCode::kInvalidArgument);
  // Learners do not count toward the one voter.
  EXPECT_TRUE(simple_change(membership({1, 2, 3}), {add_voter(4), add_learner(5)}).has_value());
}

TEST(ConfChangeRules, SimpleChangeRefusedWhileJoint) {
  Result<Membership> joint = enter_joint(membership({1, 2, 3}), {add_voter(4), add_voter(5)});
  ASSERT_TRUE(joint.has_value());
  EXPECT_EQ(code_of(simple_change(*joint, {add_learner(6)})), StatusCode::kFailedPrecondition);
}

// The checks every change shares hold for the simple form too.
TEST(ConfChangeRules, SimpleChangeChecksLikeEveryChange) {
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1}), {remove_node(1)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {add_voter(2)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {add_learner(3)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {remove_node(4)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(simple_change(membership({1, 2, 3}), {add_voter(kNoNode)})),
            StatusCode::kInvalidArgument);
}

// next_membership: each entry kind to its rule.
TEST(ConfChangeRules, NextMembershipFollowsTheEntryKind) {
  const Membership start = membership({1, 2, 3});
  Result<Membership> simple =
      next_membership(start, ConfChangeEntry{.kind = Kind::kSimple, .changes = {add_voter(4)}});
  ASSERT_TRUE(simple.has_value());
  EXPECT_TRUE(same_conf(simple->to_conf_state(), conf({1, 2, 3, 4})));
  Result<Membership> joint =
      next_membership(start, ConfChangeEntry{.kind = Kind::kEnterJoint, .changes = {add_voter(4)}});
  ASSERT_TRUE(joint.has_value());
  EXPECT_TRUE(same_conf(joint->to_conf_state(), conf({1, 2, 3, 4}, {1, 2, 3})));
  Result<Membership> left =
      next_membership(*joint, ConfChangeEntry{.kind = Kind::kLeaveJoint, .changes = {}});
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(same_conf(left->to_conf_state(), conf({1, 2, 3, 4})));
  // A leave entry outside a joint configuration is a log no leader could have written.
  EXPECT_EQ(
      code_of(next_membership(start, ConfChangeEntry{.kind = Kind::kLeaveJoint, .changes = {}})),
      StatusCode::kFailedPrecondition);
}

// Thesis §4.3: enter_joint with one change still makes C_old,new (the log may hold such entries:
// before single changes took one step, every change went through it).
TEST(ConfChangeRules, SingleChangeEntersJointConfigurationWithOldVotersOutgoing) {
  Result<Membership> next = enter_joint(membership({1, 2, 3}), {add_voter(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(next->voters.is_joint());
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3, 4}, {1, 2, 3})));
}

// Thesis §4.3: several servers change in one step, through one joint configuration.
TEST(ConfChangeRules, SeveralChangesEnterOneJointConfiguration) {
  Result<Membership> next = enter_joint(
      membership({1, 2, 3}), {add_voter(4), add_voter(5), remove_node(2), remove_node(3)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 4, 5}, {1, 2, 3})));
}

// Thesis §4.3: C_new is reached from C_old,new only; a change never starts from a joint state.
TEST(ConfChangeRules, RefusedWhileAlreadyJoint) {
  Result<Membership> joint = enter_joint(membership({1, 2, 3}), {add_voter(4)});
  ASSERT_TRUE(joint.has_value());
  EXPECT_EQ(code_of(enter_joint(*joint, {add_voter(5)})), StatusCode::kFailedPrecondition);
}

TEST(ConfChangeRules, RefusedWithoutChanges) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {})), StatusCode::kInvalidArgument);
}

// Thesis §4.3: C_new needs voters, or nothing could ever be decided again.
TEST(ConfChangeRules, MayNotRemoveEveryVoter) {
  EXPECT_EQ(
      code_of(enter_joint(membership({1, 2, 3}), {remove_node(1), remove_node(2), remove_node(3)})),
      StatusCode::kInvalidArgument);
  // Learners left behind do not count: they cannot vote.
  EXPECT_EQ(code_of(enter_joint(membership({1}, {2}), {remove_node(1)})),
            StatusCode::kInvalidArgument);
}

TEST(ConfChangeRules, MayNotAddAnExistingVoter) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {add_voter(2)})),
            StatusCode::kInvalidArgument);
}

// A voter turned learner in one step would be in both sets of C_new; it must be removed first.
TEST(ConfChangeRules, MayNotAddAVoterAsLearner) {
  Result<Membership> next = enter_joint(membership({1, 2, 3}), {add_learner(3)});
  EXPECT_EQ(code_of(next), StatusCode::kInvalidArgument);
  EXPECT_NE(next.status().message().find("remove it before"), std::string::npos)
      << next.status().to_string();
}

TEST(ConfChangeRules, MayNotAddAnExistingLearner) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}, {4}), {add_learner(4)})),
            StatusCode::kInvalidArgument);
}

TEST(ConfChangeRules, MayNotRemoveANonMember) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {remove_node(4)})),
            StatusCode::kInvalidArgument);
}

// The outcome of two changes to one node would depend on their order.
TEST(ConfChangeRules, MayNotChangeANodeTwice) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {add_voter(4), remove_node(4)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {remove_node(3), add_learner(3)})),
            StatusCode::kInvalidArgument);
}

// dengine/types.h: node id 0 means "no node".
TEST(ConfChangeRules, MayNotNameNodeZero) {
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {add_voter(kNoNode)})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(enter_joint(membership({1, 2, 3}), {add_learner(kNoNode)})),
            StatusCode::kInvalidArgument);
}

// Thesis §4.2.1: a new server catches up as a non-voting member, then is promoted.
TEST(ConfChangeRules, AddVoterPromotesALearner) {
  Result<Membership> next = enter_joint(membership({1, 2, 3}, {4}), {add_voter(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3, 4}, {1, 2, 3})));
  EXPECT_FALSE(next->is_learner(4));
}

// Thesis §4.2.1: learners receive the log but leave the voters as they are.
TEST(ConfChangeRules, AddLearnerLeavesTheVotersAlone) {
  Result<Membership> next = enter_joint(membership({1, 2, 3}), {add_learner(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3}, {1, 2, 3}, {4})));
  EXPECT_EQ(next->peers_of(1), (std::vector<NodeId>{2, 3, 4}));
}

TEST(ConfChangeRules, RemoveNodeRemovesALearner) {
  Result<Membership> next = enter_joint(membership({1, 2, 3}, {4}), {remove_node(4)});
  ASSERT_TRUE(next.has_value()) << next.status().to_string();
  EXPECT_TRUE(same_conf(next->to_conf_state(), conf({1, 2, 3}, {1, 2, 3})));
}

// Thesis §4.3: C_new alone governs once the joint configuration is left.
TEST(ConfChangeRules, LeaveJointDropsTheOutgoingHalf) {
  Result<Membership> joint =
      enter_joint(membership({1, 2, 3}), {add_voter(4), remove_node(2), add_learner(5)});
  ASSERT_TRUE(joint.has_value());
  const Membership left = leave_joint(*joint);
  EXPECT_FALSE(left.voters.is_joint());
  EXPECT_TRUE(same_conf(left.to_conf_state(), conf({1, 3, 4}, {}, {5})));
}

// ---- ConfChangeCodec: a file format ----

const ConfChangeEntry kSample{
    .kind = Kind::kEnterJoint,
    .changes = {add_voter(4), add_learner(5), remove_node(0x0102030405060708ULL)}};

void expect_corruption(const std::string& data) {
  Result<ConfChangeEntry> decoded = decode_conf_change(data);
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption)
      << "decoding " << data.size() << " bytes";
}

TEST(ConfChangeCodec, EnterJointRoundTrips) {
  Result<ConfChangeEntry> decoded = decode_conf_change(encode_conf_change(kSample));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->kind, Kind::kEnterJoint);
  EXPECT_EQ(decoded->changes, kSample.changes);
}

TEST(ConfChangeCodec, SimpleRoundTrips) {
  Result<ConfChangeEntry> decoded = decode_conf_change(
      encode_conf_change(ConfChangeEntry{.kind = Kind::kSimple, .changes = {add_voter(2)}}));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->kind, Kind::kSimple);
  EXPECT_EQ(decoded->changes, std::vector<ConfChange>{add_voter(2)});
}

// The entries already in logs keep their meaning: the bytes of an enter-joint adding voter 4 and
// of a leave-joint, as every earlier build wrote them, and the new kind's tag.
TEST(ConfChangeCodec, EncodingIsStable) {
  const std::string enter_joint_v4("\x01\x00\x01\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00",
                                   15);
  const std::string leave_joint("\x01\x01\x00\x00\x00\x00", 6);
  const std::string simple_v4("\x01\x02\x01\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00", 15);
  Result<ConfChangeEntry> enter = decode_conf_change(enter_joint_v4);
  ASSERT_TRUE(enter.has_value()) << enter.status().to_string();
  EXPECT_EQ(enter->kind, Kind::kEnterJoint);
  EXPECT_EQ(enter->changes, std::vector<ConfChange>{add_voter(4)});
  Result<ConfChangeEntry> leave = decode_conf_change(leave_joint);
  ASSERT_TRUE(leave.has_value()) << leave.status().to_string();
  EXPECT_EQ(leave->kind, Kind::kLeaveJoint);
  EXPECT_EQ(
      encode_conf_change(ConfChangeEntry{.kind = Kind::kEnterJoint, .changes = {add_voter(4)}}),
      enter_joint_v4);
  EXPECT_EQ(encode_conf_change(ConfChangeEntry{.kind = Kind::kLeaveJoint, .changes = {}}),
            leave_joint);
  EXPECT_EQ(encode_conf_change(ConfChangeEntry{.kind = Kind::kSimple, .changes = {add_voter(4)}}),
            simple_v4);
}

TEST(ConfChangeCodec, LeaveJointRoundTrips) {
  Result<ConfChangeEntry> decoded = decode_conf_change(
      encode_conf_change(ConfChangeEntry{.kind = Kind::kLeaveJoint, .changes = {}}));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->kind, Kind::kLeaveJoint);
  EXPECT_TRUE(decoded->changes.empty());
}

// Layout: [0] version, [1] kind, [2..5] change count (little-endian), then per change one op
// byte and an 8-byte node id.
TEST(ConfChangeCodec, TruncatedEntryIsCorruption) {
  const std::string data = encode_conf_change(kSample);
  for (size_t size = 0; size < data.size(); ++size) expect_corruption(data.substr(0, size));
}

TEST(ConfChangeCodec, UnknownFormatVersionIsCorruption) {
  std::string data = encode_conf_change(kSample);
  for (int version : {0, 2, 255}) {
    data[0] = static_cast<char>(version);
    expect_corruption(data);
  }
}

TEST(ConfChangeCodec, UnknownKindIsCorruption) {
  std::string data = encode_conf_change(kSample);
  for (int kind : {3, 4, 255}) {
    data[1] = static_cast<char>(kind);
    expect_corruption(data);
  }
}

TEST(ConfChangeCodec, UnknownOperationIsCorruption) {
  std::string data = encode_conf_change(kSample);
  data[6 + 9] = 3;  // the second change's op
  expect_corruption(data);
}

// The count must describe the bytes exactly: neither fewer changes nor trailing bytes.
TEST(ConfChangeCodec, CountMismatchIsCorruption) {
  std::string more_claimed = encode_conf_change(kSample);
  more_claimed[2] = 4;
  expect_corruption(more_claimed);
  std::string fewer_claimed = encode_conf_change(kSample);
  fewer_claimed[2] = 2;
  expect_corruption(fewer_claimed);
  expect_corruption(encode_conf_change(kSample) + std::string(1, '\0'));
  std::string huge = encode_conf_change(kSample);
  huge[5] = static_cast<char>(0xFF);  // count ~4e9: refused, never allocated
  expect_corruption(huge);
}

// Whatever bytes the log holds, decoding answers Corruption or a value that encodes back to
// exactly those bytes — never a crash. A fixed seed keeps the run reproducible.
TEST(ConfChangeCodec, ArbitraryBytesDecodeCleanly) {
  std::mt19937_64 rng(20151022);
  const std::string valid = encode_conf_change(kSample);
  size_t decoded_ok = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string data;
    if (round % 2 == 0) {
      data.resize(rng() % 48);
      for (char& byte : data) byte = static_cast<char>(rng());
      if (!data.empty() && rng() % 2 == 0) data[0] = 1;  // get past the version byte
    } else {
      data = valid;
      for (uint64_t flips = 1 + rng() % 3; flips > 0; --flips) {
        data[rng() % data.size()] = static_cast<char>(rng());
      }
      if (rng() % 4 == 0) data.resize(rng() % (data.size() + 4));
    }
    Result<ConfChangeEntry> decoded = decode_conf_change(data);
    if (decoded) {
      ++decoded_ok;
      EXPECT_EQ(encode_conf_change(*decoded), data) << "round " << round;
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "round " << round;
    }
  }
  EXPECT_GT(decoded_ok, 0U);  // the mutations reached past the checks, not just the first byte
}

// ---- RaftMembership: proposing a change ----

// Thesis §4.1: the leader drives configuration changes, as it does every log entry.
TEST(RaftMembership, FollowerCannotProposeAChange) {
  TestNetwork net(3);
  net.elect(1);
  Result<Index> proposed = net.node(2).propose_conf_change({add_learner(4)});
  EXPECT_EQ(proposed.status().code(), StatusCode::kNotLeader);
}

TEST(RaftMembership, InvalidChangeIsRefusedAndNothingIsAppended) {
  TestNetwork net(3);
  net.elect(1);
  const Index last = net.node(1).log().last_index();
  EXPECT_EQ(net.node(1).propose_conf_change({add_voter(2)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(net.node(1).log().last_index(), last);
}

// Node 1 of {1,2,3}, holding (uncommitted) a change that the term-1 leader proposed — adding
// voter 4 — wins term 2. Its no-op is durable but nobody has acknowledged it.
std::unique_ptr<RaftNode> new_leader_with_uncommitted_change() {
  auto node = recovered_node(ConfigBuilder(1, {1, 2, 3}).build(),
                             {no_op(1, 1), enter_joint_entry(1, 2, {add_voter(4)})},
                             HardState{.term = 1, .vote = 2, .commit = 1}, /*applied=*/0);
  win_election_by_hand(*node);
  return node;
}

// Ongaro's fix of the single-server-change bug (raft-dev, 2015): a leader elected with a change
// from an earlier term still uncommitted in its log might add another change on top of it, and
// two changes decided by different majorities can elect two leaders. It must first commit an
// entry of its own term.
TEST(RaftMembership, NewLeaderCannotChangeConfigurationBeforeCommittingInItsTerm) {
  std::unique_ptr<RaftNode> leader = new_leader_with_uncommitted_change();
  ASSERT_EQ(leader->role(), RaftRole::kLeader);
  ASSERT_EQ(leader->term(), 2U);
  ASSERT_EQ(leader->log().committed(), 1U);

  Result<Index> proposed = leader->propose_conf_change({remove_node(3)});
  EXPECT_EQ(proposed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(proposed.status().message().find("has not committed an entry of its term"),
            std::string::npos)
      << proposed.status().to_string();
}

// The same leader, once its no-op commits (and with it the inherited change, which then
// completes), may change the configuration.
TEST(RaftMembership, NewLeaderMayChangeConfigurationOnceItsTermHasCommitted) {
  std::unique_ptr<RaftNode> leader = new_leader_with_uncommitted_change();
  acknowledge_log_by_hand(*leader, {2, 3});  // commits the no-op and the inherited change
  ASSERT_TRUE(same_conf(leader->conf_state(), conf({1, 2, 3, 4}, {1, 2, 3})));
  acknowledge_log_by_hand(*leader, {2, 3});  // commits the leave-joint entry
  ASSERT_TRUE(same_conf(leader->conf_state(), conf({1, 2, 3, 4})));

  Result<Index> proposed = leader->propose_conf_change({remove_node(3)});
  EXPECT_TRUE(proposed.has_value()) << proposed.status().to_string();
}

// Thesis §4.1: one change at a time; the next waits until the current one is in effect.
TEST(RaftMembership, SecondChangeIsRefusedWhileOneIsPending) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_learner(4)}).has_value());
  Result<Index> second = net.node(1).propose_conf_change({add_learner(5)});
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

// The same while a joint change is pending: the leave entry counts as part of it.
TEST(RaftMembership, SecondChangeIsRefusedWhileAJointChangeIsPending) {
  TestNetwork net(3);
  net.elect(1);
  Result<Index> first = net.node(1).propose_conf_change({add_learner(4), add_learner(5)});
  ASSERT_TRUE(first.has_value());
  // Everything up to the enter entry reaches everyone; the leave entry after it reaches no one.
  net.drop_if([index = *first](const Message& m) { return appends_past(m, index); });
  net.deliver_all();
  ASSERT_TRUE(net.node(1).membership().voters.is_joint());
  Result<Index> second = net.node(1).propose_conf_change({add_learner(6)});
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST(RaftMembership, NextChangeIsAcceptedOnceTheFirstIsApplied) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_learner(4)}).has_value());
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(1).conf_state(), conf({1, 2, 3}, {}, {4})));
  Result<Index> second = net.node(1).propose_conf_change({add_learner(5)});
  EXPECT_TRUE(second.has_value()) << second.status().to_string();
}

// ---- RaftMembership: a single change in one step ----

// The bug seen from outside (etcdctl member add on a one-member cluster): the lone voter adds a
// second voter that is not running yet. The entry commits on the leader's own acknowledgement
// under C_old = {1}, and C_new = {1,2} is in force once it is applied; no further entry needs
// node 2.
TEST(RaftMembership, LoneVoterAddsASecondVoterThatIsDown) {
  TestNetwork net(cluster({1}, {2}));
  net.isolate(2);
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({add_voter(2)});
  ASSERT_TRUE(change.has_value()) << change.status().to_string();
  net.deliver_all();

  RaftNode& leader = net.node(1);
  EXPECT_GE(leader.log().committed(), *change);
  EXPECT_GE(leader.log().applied(), *change);
  EXPECT_TRUE(same_conf(leader.conf_state(), conf({1, 2})));
  EXPECT_EQ(leader.log().last_index(), *change);  // nothing more to commit: no leave entry
  EXPECT_EQ(conf_change_kinds(net.applied(1)), std::vector<Kind>{Kind::kSimple});
  EXPECT_EQ(leader.role(), RaftRole::kLeader);
  // From now on a commit needs node 2 as well.
  Result<Index> x = leader.propose("x");
  ASSERT_TRUE(x.has_value());
  net.deliver_all();
  EXPECT_LT(leader.log().committed(), *x);
}

// Node 2 starts: it catches up, applies its own addition, and counts toward commit.
TEST(RaftMembership, SecondVoterJoinsOnceItStarts) {
  TestNetwork net(cluster({1}, {2}));
  net.isolate(2);
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_voter(2)}).has_value());
  net.deliver_all();
  Result<Index> x = net.node(1).propose("x");
  ASSERT_TRUE(x.has_value());
  net.deliver_all();

  net.heal();
  net.advance(1);  // a heartbeat finds node 2 behind; it catches up
  EXPECT_GE(net.node(1).log().committed(), *x);
  EXPECT_TRUE(same_conf(net.node(2).conf_state(), conf({1, 2})));
  ASSERT_FALSE(net.applied(2).empty());
  EXPECT_EQ(net.applied(2).back().data, "x");
}

// Thesis §4.1: the entry is committed under C_old — a majority of {1,2,3} — while node 4 hears
// nothing; C_new = {1,2,3,4} then needs three acknowledgements.
TEST(RaftMembership, SingleChangeCommitsUnderTheOldConfiguration) {
  TestNetwork net(cluster({1, 2, 3}, {4}));
  net.elect(1);
  net.isolate(4);
  net.cut(1, 3);
  Result<Index> change = net.node(1).propose_conf_change({add_voter(4)});
  ASSERT_TRUE(change.has_value());
  net.deliver_all();
  EXPECT_GE(net.node(1).log().committed(), *change);  // {1,2} of {1,2,3}
  EXPECT_TRUE(same_conf(net.node(1).conf_state(), conf({1, 2, 3, 4})));

  Result<Index> x = net.node(1).propose("x");
  ASSERT_TRUE(x.has_value());
  net.deliver_all();
  EXPECT_LT(net.node(1).log().committed(), *x);  // {1,2} of {1,2,3,4} is not a majority
}

TEST(RaftMembership, RemovingAVoterTakesOneStep) {
  TestNetwork net(3);
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({remove_node(3)});
  ASSERT_TRUE(change.has_value());
  net.deliver_all();
  for (NodeId id : {1, 2}) {
    EXPECT_TRUE(same_conf(net.node(id).conf_state(), conf({1, 2}))) << "node " << id;
    EXPECT_EQ(conf_change_kinds(net.applied(id)), std::vector<Kind>{Kind::kSimple})
        << "node " << id;
  }
  EXPECT_EQ(net.node(1).log().last_index(), *change);
}

// Removing a voter that holds nothing new: the smaller majority commits at once what the rest
// already hold (etcd-raft counts again after every configuration change).
TEST(RaftMembership, RemovingALaggingVoterCommitsWhatTheRestHold) {
  TestNetwork net(cluster({1, 2, 3, 4}, {}));
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({remove_node(4)});
  ASSERT_TRUE(change.has_value());
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(1).conf_state(), conf({1, 2, 3})));
  net.isolate(3);
  net.isolate(4);
  Result<Index> x = net.node(1).propose("x");
  ASSERT_TRUE(x.has_value());
  net.deliver_all();
  EXPECT_GE(net.node(1).log().committed(), *x);  // {1,2} of {1,2,3}
}

TEST(RaftMembership, PromotingALearnerTakesOneStep) {
  TestNetwork net(cluster({1, 2, 3}, {4}));
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_learner(4)}).has_value());
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(4).conf_state(), conf({1, 2, 3}, {}, {4})));
  Result<Index> promote = net.node(1).propose_conf_change({add_voter(4)});
  ASSERT_TRUE(promote.has_value()) << promote.status().to_string();
  net.deliver_all();
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_TRUE(same_conf(net.node(id).conf_state(), conf({1, 2, 3, 4}))) << "node " << id;
    EXPECT_EQ(conf_change_kinds(net.applied(id)), (std::vector<Kind>{Kind::kSimple, Kind::kSimple}))
        << "node " << id;
  }
}

// Several changes in one proposal still go through C_old,new, even when they change only one
// voter between them (etcd-raft's automatic transition: joint for more than one change).
TEST(RaftMembership, TwoChangesInOneProposalStillGoJoint) {
  TestNetwork net(cluster({1, 2, 3}, {4, 5}));
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_voter(4), add_learner(5)}).has_value());
  net.deliver_all();
  for (NodeId id : {1, 2, 3, 4, 5}) {
    EXPECT_TRUE(same_conf(net.node(id).conf_state(), conf({1, 2, 3, 4}, {}, {5}))) << "node " << id;
    EXPECT_EQ(conf_change_kinds(net.applied(id)),
              (std::vector<Kind>{Kind::kEnterJoint, Kind::kLeaveJoint}))
        << "node " << id;
  }
}

// ---- RaftMembership: through C_old,new to C_new ----

// Thesis §4.3: the change first puts C_old,new in effect, on the leader and followers alike.
TEST(RaftMembership, AddingVotersEntersJointConfigurationFirst) {
  TestNetwork net(cluster({1, 2, 3}, {4, 5}));
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({add_voter(4), add_voter(5)});
  ASSERT_TRUE(change.has_value());
  // Nothing after the change reaches anyone, so the way out cannot commit.
  net.drop_if([index = *change](const Message& m) { return appends_past(m, index); });
  net.deliver_all();

  for (NodeId id : {1, 2, 3}) {
    EXPECT_TRUE(same_conf(net.node(id).conf_state(), conf({1, 2, 3, 4, 5}, {1, 2, 3})))
        << "node " << id;
  }
  // The leader already appended the entry that leaves it.
  const RaftLog& log = net.node(1).log();
  EXPECT_EQ(log.last_index(), log.committed() + 1);
  EXPECT_EQ(conf_change_kinds({log.at(log.last_index())}), std::vector<Kind>{Kind::kLeaveJoint});
}

// Thesis §4.3: "once C_old,new has been committed ... the leader [creates] a log entry describing
// C_new" — by itself; everyone ends in C_new.
TEST(RaftMembership, LeaderLeavesJointConfigurationByItself) {
  TestNetwork net(cluster({1, 2, 3}, {4, 5}));
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_voter(4), add_voter(5)}).has_value());
  net.deliver_all();

  for (NodeId id : {1, 2, 3, 4, 5}) {
    EXPECT_TRUE(same_conf(net.node(id).conf_state(), conf({1, 2, 3, 4, 5}))) << "node " << id;
    EXPECT_EQ(conf_change_kinds(net.applied(id)),
              (std::vector<Kind>{Kind::kEnterJoint, Kind::kLeaveJoint}))
        << "node " << id;
  }
}

// Thesis §4.3: while C_old,new is in effect every commit needs a majority of C_old = {1,2,3}
// and a majority of C_new = {1,4,5}.
class RaftJointCommit : public ::testing::Test {
 protected:
  RaftJointCommit() : net_(cluster({1, 2, 3}, {4, 5})) { net_.elect(1); }

  RaftNode& leader() { return net_.node(1); }

  Index propose_change() {
    Result<Index> index =
        leader().propose_conf_change({add_voter(4), add_voter(5), remove_node(2), remove_node(3)});
    if (!index) throw std::runtime_error(index.status().to_string());
    return *index;
  }

  Index propose(const std::string& data) {
    Result<Index> index = leader().propose(data);
    if (!index) throw std::runtime_error(index.status().to_string());
    net_.deliver_all();
    return *index;
  }

  // The change takes effect while 4 and 5 hear nothing.
  void enter_joint_without_new_voters() {
    net_.isolate(4);
    net_.isolate(5);
    propose_change();
    net_.deliver_all();
    if (!same_conf(leader().conf_state(), conf({1, 4, 5}, {1, 2, 3}))) {
      throw std::runtime_error("leader is not joint: " + describe(leader().conf_state()));
    }
  }

  TestNetwork net_;
};

TEST_F(RaftJointCommit, NotCommittedWithoutMajorityOfNewVoters) {
  enter_joint_without_new_voters();
  const Index x = propose("x");
  ASSERT_GE(leader().progress_of(2)->match(), x);
  ASSERT_GE(leader().progress_of(3)->match(), x);  // all of C_old holds x
  EXPECT_LT(leader().log().committed(), x);
}

TEST_F(RaftJointCommit, NotCommittedWithoutMajorityOfOldVoters) {
  const Index change = propose_change();
  // 2 and 3 help commit the change, then receive nothing after it.
  net_.drop_if(
      [change](const Message& m) { return (m.to == 2 || m.to == 3) && appends_past(m, change); });
  net_.deliver_all();
  ASSERT_TRUE(same_conf(leader().conf_state(), conf({1, 4, 5}, {1, 2, 3})));

  const Index x = propose("x");
  ASSERT_GE(leader().progress_of(4)->match(), x);
  ASSERT_GE(leader().progress_of(5)->match(), x);  // all of C_new holds x
  EXPECT_EQ(leader().log().committed(), change);
}

TEST_F(RaftJointCommit, CommittedWithMajoritiesOfBoth) {
  enter_joint_without_new_voters();
  const Index x = propose("x");
  ASSERT_LT(leader().log().committed(), x);
  net_.heal();
  net_.advance(1);  // a heartbeat finds 4 and 5 behind; they catch up
  EXPECT_GE(leader().log().committed(), x);
  EXPECT_TRUE(same_conf(leader().conf_state(), conf({1, 4, 5})));
}

// ---- RaftLearner: non-voting members ----

// Thesis §4.2.1: voters {1, 2} and node 3 added as a learner (non-voting member).
class RaftLearner : public ::testing::Test {
 protected:
  RaftLearner() : net_(cluster({1, 2}, {3})) {
    net_.elect(1);
    change({add_learner(3)});
    if (!same_conf(leader().conf_state(), conf({1, 2}, {}, {3}))) {
      throw std::runtime_error("learner not added: " + describe(leader().conf_state()));
    }
  }

  RaftNode& leader() { return net_.node(1); }

  void change(std::vector<ConfChange> changes) {
    Result<Index> index = leader().propose_conf_change(std::move(changes));
    if (!index) throw std::runtime_error(index.status().to_string());
    net_.deliver_all();
  }

  Index propose(const std::string& data) {
    Result<Index> index = leader().propose(data);
    if (!index) throw std::runtime_error(index.status().to_string());
    net_.deliver_all();
    return *index;
  }

  TestNetwork net_;
};

TEST_F(RaftLearner, ReceivesAndAppliesTheLog) {
  const Index x = propose("x");
  ASSERT_GE(leader().log().committed(), x);
  ASSERT_GE(net_.node(3).log().last_index(), x);
  EXPECT_EQ(net_.node(3).log().at(x).data, "x");
  ASSERT_FALSE(net_.applied(3).empty());
  EXPECT_EQ(net_.applied(3).back().data, "x");
}

// Thesis §4.2.1: a learner's copy does not count toward a majority.
TEST_F(RaftLearner, AcknowledgementsDoNotAdvanceCommit) {
  net_.cut(1, 2);
  const Index x = propose("x");
  ASSERT_GE(leader().progress_of(3)->match(), x);
  EXPECT_LT(leader().log().committed(), x);
}

// Thesis §4.2.1: a learner never campaigns, however long it hears nothing.
TEST_F(RaftLearner, DoesNotCampaign) {
  ASSERT_TRUE(same_conf(net_.node(3).conf_state(), conf({1, 2}, {}, {3})));  // knows its role
  net_.isolate(3);
  net_.clear_sent();
  const Term term = net_.node(3).term();
  net_.tick(3, 5 * kEt);
  EXPECT_EQ(net_.node(3).role(), RaftRole::kFollower);
  EXPECT_EQ(net_.node(3).term(), term);
  EXPECT_EQ(net_.count_sent(is_campaign_message), 0U);
}

// Thesis §4.2.1: once promoted its copy counts: {1, 3} is a majority of {1, 2, 3}, where the
// learner's acknowledgement did not make {1} one of {1, 2}.
TEST_F(RaftLearner, PromotedLearnerCountsTowardCommit) {
  change({add_voter(3)});
  ASSERT_TRUE(same_conf(leader().conf_state(), conf({1, 2, 3})));
  net_.cut(1, 2);
  const Index x = propose("x");
  EXPECT_GE(leader().log().committed(), x);
}

// A promoted learner votes: without the leader, {2, 3} elect one of themselves, which needs
// node 3's vote or node 3's own campaign.
TEST_F(RaftLearner, PromotedLearnerVotes) {
  change({add_voter(3)});
  ASSERT_TRUE(same_conf(net_.node(2).conf_state(), conf({1, 2, 3})));
  ASSERT_TRUE(same_conf(net_.node(3).conf_state(), conf({1, 2, 3})));
  net_.isolate(1);
  EXPECT_NE(advance_until_leader_among(net_, {2, 3}), kNoNode);
}

// ---- RaftMembership: removing the leader ----

// Thesis §4.2.2: a leader removed from the configuration manages the cluster until C_new is
// committed, then steps down.
class RaftMembershipLeaderRemoval : public ::testing::Test {
 protected:
  RaftMembershipLeaderRemoval() : net_(3) { net_.elect(1); }

  // In one step, or with a learner added beside it: through the joint configuration.
  Index remove_leader(bool joint = false) {
    std::vector<ConfChange> changes{remove_node(1)};
    if (joint) changes.push_back(add_learner(4));
    Result<Index> index = net_.node(1).propose_conf_change(std::move(changes));
    if (!index) throw std::runtime_error(index.status().to_string());
    return *index;
  }

  TestNetwork net_;
};

TEST_F(RaftMembershipLeaderRemoval, LeaderKeepsLeadingWhileJoint) {
  const Index change = remove_leader(/*joint=*/true);
  net_.drop_if([change](const Message& m) { return appends_past(m, change); });
  net_.deliver_all();
  ASSERT_TRUE(same_conf(net_.node(1).conf_state(), conf({2, 3}, {1, 2, 3}, {4})));
  EXPECT_EQ(net_.node(1).role(), RaftRole::kLeader);
}

// The remaining voters act on {1,2,3} until they learn the removal is committed: the removed
// leader leads on until then (taking no proposals).
TEST_F(RaftMembershipLeaderRemoval, LeaderKeepsLeadingUntilTheRemainingVotersKnow) {
  const Index change = remove_leader();
  net_.drop_if([change](const Message& m) {
    return (m.to == 2 || m.to == 3) && m.commit >= change;  // the news of the commit is lost
  });
  net_.deliver_all();
  ASSERT_TRUE(same_conf(net_.node(1).conf_state(), conf({2, 3})));
  ASSERT_TRUE(same_conf(net_.node(2).conf_state(), conf({1, 2, 3})));
  EXPECT_EQ(net_.node(1).role(), RaftRole::kLeader);
  EXPECT_EQ(net_.node(1).propose("x").status().code(), StatusCode::kNotLeader);
}

// Nor a configuration change: one bringing it back (found by the simulator, seed 5000533 on 5
// nodes) left it a voter still handing over, and its hand-over then looked for its own
// progress among the voters.
TEST_F(RaftMembershipLeaderRemoval, ALeaderHandingOverTakesNoConfigurationChange) {
  const Index change = remove_leader();
  net_.drop_if(
      [change](const Message& m) { return (m.to == 2 || m.to == 3) && m.commit >= change; });
  net_.deliver_all();
  ASSERT_EQ(net_.node(1).role(), RaftRole::kLeader);
  const Result<Index> back = net_.node(1).propose_conf_change({add_voter(1)});
  EXPECT_EQ(back.status().code(), StatusCode::kNotLeader);
  EXPECT_NE(back.status().message().find("handing over"), std::string::npos)
      << back.status().to_string();
}

TEST_F(RaftMembershipLeaderRemoval, LeaderStepsDownOnceRemovalApplies) {
  const Term term = net_.node(1).term();
  remove_leader();
  net_.deliver_all();
  EXPECT_EQ(conf_change_kinds(net_.applied(1)), std::vector<Kind>{Kind::kSimple});
  EXPECT_TRUE(same_conf(net_.node(1).conf_state(), conf({2, 3})));
  EXPECT_EQ(net_.node(1).role(), RaftRole::kFollower);
  EXPECT_EQ(net_.node(1).term(), term);
}

TEST_F(RaftMembershipLeaderRemoval, LeaderStepsDownOnceLeaveEntryApplies) {
  const Term term = net_.node(1).term();
  remove_leader(/*joint=*/true);
  net_.deliver_all();
  EXPECT_EQ(conf_change_kinds(net_.applied(1)),
            (std::vector<Kind>{Kind::kEnterJoint, Kind::kLeaveJoint}));
  EXPECT_TRUE(same_conf(net_.node(1).conf_state(), conf({2, 3}, {}, {4})));
  EXPECT_EQ(net_.node(1).role(), RaftRole::kFollower);
  EXPECT_EQ(net_.node(1).term(), term);
}

TEST_F(RaftMembershipLeaderRemoval, RemainingVoterIsElected) {
  remove_leader();
  net_.deliver_all();
  net_.clear_sent();
  const NodeId leader = advance_until_leader_among(net_, {2, 3});
  ASSERT_NE(leader, kNoNode);
  EXPECT_TRUE(same_conf(net_.node(leader).conf_state(), conf({2, 3})));
  EXPECT_EQ(net_.count_sent([](const Message& m) { return m.from == 1 && is_campaign_message(m); }),
            0U);
}

// ---- RaftMembership: progress ----

// Raft Figure 2: the leader keeps nextIndex/matchIndex for every server it replicates to.
TEST(RaftMembership, LeaderTracksProgressOfAddedNode) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_EQ(net.node(1).progress_of(4), nullptr);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_learner(4)}).has_value());
  net.deliver_all();
  EXPECT_NE(net.node(1).progress_of(4), nullptr);
}

// Thesis §4.3: a removed voter still counts in C_old while C_old,new is in effect.
TEST(RaftMembership, LeaderTracksRemovedVoterWhileJoint) {
  TestNetwork net(3);
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({remove_node(3), add_learner(4)});
  ASSERT_TRUE(change.has_value());
  net.drop_if([index = *change](const Message& m) { return appends_past(m, index); });
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(1).conf_state(), conf({1, 2}, {1, 2, 3}, {4})));
  EXPECT_NE(net.node(1).progress_of(3), nullptr);
}

TEST(RaftMembership, LeaderDropsProgressOfRemovedNode) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({remove_node(3)}).has_value());
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(1).conf_state(), conf({1, 2})));
  EXPECT_EQ(net.node(1).progress_of(3), nullptr);
}

// A late answer from a node that has left changes nothing.
TEST(RaftMembership, LeaderIgnoresAnswersFromRemovedNode) {
  TestNetwork net(3);
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({remove_node(3)}).has_value());
  net.deliver_all();
  RaftNode& leader = net.node(1);
  const Index committed = leader.log().committed();
  leader.step(append_response(3, 1, leader.term(), leader.log().last_index()));
  EXPECT_EQ(leader.log().committed(), committed);
  EXPECT_EQ(leader.progress_of(3), nullptr);
}

// ---- RaftMembership: when configurations apply ----

// Node 2 of {1,2,3} as a follower; the test plays leader 1.
std::unique_ptr<RaftNode> follower() {
  return NodeBuilder(ConfigBuilder(2, {1, 2, 3}).build()).build();
}

// The same for a single change: C_new, with nothing joint in between.
TEST(RaftMembership, FollowerAdoptsSimpleChangeWhenEntryIsApplied) {
  std::unique_ptr<RaftNode> node = follower();
  node->step(append(1, 2, 1, 0, 0, {simple_entry(1, 1, add_voter(4))}, /*commit=*/0));
  drain_messages(*node);
  ASSERT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3})));  // appended, durable
  node->step(append(1, 2, 1, 1, 1, {}, /*commit=*/1));
  EXPECT_TRUE(same_conf(node->conf_state_at_commit(), conf({1, 2, 3, 4})));
  drain_messages(*node);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3, 4})));
}

// dengine/entry.h: a configuration takes effect when its entry is handed to the apply worker —
// not when it is appended, and not merely when it is known committed.
TEST(RaftMembership, FollowerAdoptsConfigurationWhenEntryIsApplied) {
  std::unique_ptr<RaftNode> node = follower();
  node->step(append(1, 2, 1, 0, 0, {enter_joint_entry(1, 1, {add_voter(4)})}, /*commit=*/0));
  drain_messages(*node);
  ASSERT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3})));  // appended, durable

  node->step(append(1, 2, 1, 1, 1, {}, /*commit=*/1));
  ASSERT_EQ(node->log().committed(), 1U);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3})));  // committed, not yet applying
  drain_messages(*node);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3, 4}, {1, 2, 3})));
}

// conf_state_at_commit(): what the node will act on once it applies what it knows committed —
// the committed enter entry counts, the uncommitted leave entry does not.
TEST(RaftMembership, ConfStateAtCommitReflectsCommittedChangesNotYetApplied) {
  std::unique_ptr<RaftNode> node = follower();
  node->step(append(1, 2, 1, 0, 0,
                    {enter_joint_entry(1, 1, {add_voter(4)}), leave_joint_entry(1, 2)},
                    /*commit=*/1));
  // No Ready taken yet: nothing has gone to the apply worker.
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3})));
  EXPECT_TRUE(same_conf(node->conf_state_at_commit(), conf({1, 2, 3, 4}, {1, 2, 3})));
}

// A log recovered as {no-op, enter joint (+learner 4), leave joint}, all committed.
std::vector<Entry> log_adding_learner_4() {
  return {no_op(1, 1), enter_joint_entry(1, 2, {add_learner(4)}), leave_joint_entry(1, 3)};
}

// A restarted node re-applies its committed entries, configurations included.
TEST(RaftMembership, RestartedNodeReplaysConfigurationOfCommittedEntries) {
  std::unique_ptr<RaftNode> node =
      recovered_node(ConfigBuilder(1, {1, 2, 3}).build(), log_adding_learner_4(),
                     HardState{.term = 1, .vote = kNoNode, .commit = 3}, /*applied=*/0);
  EXPECT_TRUE(same_conf(node->conf_state_at_commit(), conf({1, 2, 3}, {}, {4})));
  drain_messages(*node);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3}, {}, {4})));
}

// The same node whose state machine durably holds all three entries (RaftBootState::applied):
// they are not applied again, yet the configuration they made must still be in effect.
TEST(RaftMembership, RestartedNodeKeepsConfigurationOfEntriesItHadApplied) {
  std::unique_ptr<RaftNode> node =
      recovered_node(ConfigBuilder(1, {1, 2, 3}).build(), log_adding_learner_4(),
                     HardState{.term = 1, .vote = kNoNode, .commit = 3}, /*applied=*/3);
  drain_messages(*node);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 2, 3}, {}, {4})));
  EXPECT_TRUE(same_conf(node->conf_state_at_commit(), conf({1, 2, 3}, {}, {4})));
}

// A log that went one step at a time and one that went joint replay to the same configuration.
TEST(RaftMembership, RestartedNodeKeepsConfigurationOfSimpleEntries) {
  std::unique_ptr<RaftNode> node = recovered_node(
      ConfigBuilder(1, {1, 2, 3}).build(),
      {no_op(1, 1), simple_entry(1, 2, add_learner(4)), simple_entry(1, 3, add_voter(4)),
       enter_joint_entry(1, 4, {remove_node(2), add_learner(5)}), leave_joint_entry(1, 5)},
      HardState{.term = 1, .vote = kNoNode, .commit = 5}, /*applied=*/5);
  EXPECT_TRUE(same_conf(node->conf_state(), conf({1, 3, 4}, {}, {5})));
}

// ---- RaftMembership: snapshots ----

// Raft §7: the snapshot "includes the latest configuration as of the last included index"; a
// node restoring it adopts that configuration.
TEST(RaftMembership, SnapshotCarriesConfigurationToLaggingNode) {
  TestNetwork net(
      cluster({1, 2, 3}, {4}, [](ConfigBuilder& c) { c.compaction_trailing_entries(0); }));
  net.elect(1);
  net.isolate(4);
  RaftNode& leader = net.node(1);
  ASSERT_TRUE(leader.propose_conf_change({add_learner(4)}).has_value());
  net.deliver_all();
  ASSERT_TRUE(leader.propose("x").has_value());
  net.deliver_all();
  const Index applied = leader.log().applied();
  leader.on_snapshot_ready(SnapshotMeta{.index = applied,
                                        .term = leader.log().term_at(applied).value_or(0),
                                        .conf = leader.conf_state()});
  net.drain(1);
  ASSERT_EQ(leader.log().snapshot_index(), applied);  // node 4 can only get the image

  net.heal();
  net.advance(1);
  ASSERT_GE(net.count_sent(
                [](const Message& m) { return m.type == MessageType::kSnapshot && m.to == 4; }),
            1U);
  EXPECT_TRUE(same_conf(net.node(4).conf_state(), conf({1, 2, 3}, {}, {4})));
}

TEST(RaftMembership, RestartFromSnapshotAdoptsItsConfiguration) {
  const ConfState image_conf = conf({1, 2, 4}, {}, {5});
  std::unique_ptr<RaftNode> node =
      NodeBuilder(ConfigBuilder(1, {1, 2, 3}).build())
          .snapshot(SnapshotMeta{.index = 5, .term = 2, .conf = image_conf})
          .applied(5)
          .build();
  EXPECT_TRUE(same_conf(node->conf_state(), image_conf));
}

// ---- RaftMembership: found bugs ----

// Thesis §4.3: the cluster always reaches C_new. Here the leader that entered C_old,new (adding
// learner 4) loses leadership before its leave entry reaches anyone; followers 2 and 3 have
// applied the enter entry. The next leader must append the leave entry itself.
TEST(RaftMembership, NewLeaderLeavesJointConfigurationLeftByItsPredecessor) {
  TestNetwork net(3);
  net.elect(1);
  Result<Index> change = net.node(1).propose_conf_change({add_learner(4), add_learner(5)});
  ASSERT_TRUE(change.has_value());
  net.drop_if([index = *change](const Message& m) { return appends_past(m, index); });
  net.deliver_all();
  ASSERT_TRUE(same_conf(net.node(2).conf_state(), conf({1, 2, 3}, {1, 2, 3}, {4, 5})));
  ASSERT_TRUE(same_conf(net.node(3).conf_state(), conf({1, 2, 3}, {1, 2, 3}, {4, 5})));

  net.heal();
  net.isolate(1);
  const NodeId leader = advance_until_leader_among(net, {2, 3});
  ASSERT_NE(leader, kNoNode);
  net.advance(2 * kEt);
  EXPECT_TRUE(same_conf(net.node(leader).conf_state(), conf({1, 2, 3}, {}, {4, 5})));
  EXPECT_TRUE(net.node(leader).propose_conf_change({add_learner(6)}).has_value());
}

// A node joining {1,2,3} boots with the cluster's voters, not itself among them, replays the
// leader's log from index 1 and reaches the entry adding it.
TEST(RaftMembership, JoiningNodeBootedWithClusterVotersReplicatesItsOwnAddition) {
  std::vector<std::unique_ptr<RaftNode>> nodes = cluster({1, 2, 3}, {});
  nodes.push_back(NodeBuilder(ConfigBuilder(4, {1, 2, 3}).build()).build());
  TestNetwork net(std::move(nodes));
  net.elect(1);
  ASSERT_TRUE(net.node(1).propose_conf_change({add_voter(4)}).has_value());
  net.deliver_all();
  EXPECT_TRUE(same_conf(net.node(4).conf_state(), conf({1, 2, 3, 4})));
}

}  // namespace
}  // namespace dengine::raft::test
