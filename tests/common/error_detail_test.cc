#include "dengine/error_detail.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/status.h"

namespace dengine {
namespace {

// Every detail the table knows, found by its number (the wire's view of it).
std::vector<ErrorDetail> known_details() {
  std::vector<ErrorDetail> known;
  for (uint32_t number = 1; number <= UINT16_MAX; ++number) {
    if (error_detail_from_wire(number) != ErrorDetail::kNone) {
      known.push_back(static_cast<ErrorDetail>(number));
    }
  }
  return known;
}

TEST(ErrorDetail, EveryKnownDetailHasANameACodeAndEtcdsText) {
  const std::vector<ErrorDetail> known = known_details();
  EXPECT_EQ(known.size(), 37U);
  std::set<std::string_view> names;
  std::set<std::string_view> texts;
  for (const ErrorDetail detail : known) {
    const std::string_view name = error_detail_name(detail);
    EXPECT_NE(name, "Unknown");
    EXPECT_TRUE(names.insert(name).second) << name << " is used twice";
    EXPECT_TRUE(error_detail_text(detail).starts_with("etcdserver: ")) << name;
    EXPECT_TRUE(texts.insert(error_detail_text(detail)).second) << name << "'s text is used twice";
    EXPECT_NE(error_detail_code(detail), StatusCode::kOk) << name;
  }
}

TEST(ErrorDetail, NumbersOnTheWireStayPut) {
  // Members of different builds exchange these numbers: renumbering one changes its meaning.
  EXPECT_EQ(static_cast<int>(ErrorDetail::kEmptyKey), 1);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kCompacted), 7);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kCorrupt), 15);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kMemberNotLearner), 19);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kLearnerNotInSync), 32);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kTooManyLearners), 34);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kAuthNotEnabled), 48);
  EXPECT_EQ(static_cast<int>(ErrorDetail::kInvalidAuthManagement), 62);
}

TEST(ErrorDetail, AnUnknownNumberFromAPeerIsNoDetail) {
  EXPECT_EQ(error_detail_from_wire(0), ErrorDetail::kNone);
  EXPECT_EQ(error_detail_from_wire(31), ErrorDetail::kNone);
  EXPECT_EQ(error_detail_from_wire(9999), ErrorDetail::kNone);
  EXPECT_EQ(error_detail_from_wire(UINT32_MAX), ErrorDetail::kNone);
  EXPECT_EQ(error_detail_name(static_cast<ErrorDetail>(9999)), "Unknown");
  EXPECT_EQ(error_detail_text(ErrorDetail::kNone), "");
}

TEST(StatusOf, CarriesTheDetailItsCodeAndItsText) {
  const Status compacted = Status::of(ErrorDetail::kCompacted);
  EXPECT_EQ(compacted.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(compacted.detail(), ErrorDetail::kCompacted);
  EXPECT_TRUE(compacted.is(ErrorDetail::kCompacted));
  EXPECT_EQ(compacted.message(), "etcdserver: mvcc: required revision has been compacted");

  const Status refused = Status::of(ErrorDetail::kUnhealthyCluster, "voter 3 is silent");
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(), "etcdserver: unhealthy cluster (voter 3 is silent)");
}

TEST(StatusOf, ContextKeepsTheDetailWhateverTheWording) {
  const Status lost = Status::of(ErrorDetail::kLeaseNotFound).with_context("session: lease 7");
  EXPECT_EQ(lost.detail(), ErrorDetail::kLeaseNotFound);
  EXPECT_EQ(lost.code(), StatusCode::kNotFound);
  EXPECT_EQ(lost.message(), "etcdserver: requested lease not found (session: lease 7)");
  // A message that reads like a known error is still none: only the detail says.
  const Status lookalike(StatusCode::kNotFound, "etcdserver: requested lease not found");
  EXPECT_EQ(lookalike.detail(), ErrorDetail::kNone);
  EXPECT_TRUE(Status::ok().with_context("anything").is_ok());
}

TEST(StatusOfDeathTest, NoDetailIsNoError) {
  EXPECT_DEATH((void)Status::of(ErrorDetail::kNone), "invariant violated");
}

}  // namespace
}  // namespace dengine
