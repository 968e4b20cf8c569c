#include <string>

#include <gtest/gtest.h>

#include "dengine/status.h"

namespace dengine {
namespace {

TEST(Result, HoldsAValueOrTheStatusThatExplainsItsAbsence) {
  Result<int> seven = 7;
  ASSERT_TRUE(seven.has_value());
  EXPECT_EQ(*seven, 7);
  EXPECT_TRUE(seven.status().is_ok());

  Result<int> missing = Status::of(ErrorDetail::kLeaseNotFound);
  EXPECT_FALSE(missing.has_value());
  EXPECT_EQ(missing.status().detail(), ErrorDetail::kLeaseNotFound);
}

TEST(Result, AnOkStatusWithoutAValueBecomesAnInternalError) {
  Result<int> odd = Status::ok();
  EXPECT_FALSE(odd.has_value());
  EXPECT_EQ(odd.status().code(), StatusCode::kInternal);
}

// Reading the value of a failed Result is a bug in the caller: it stops the process and says
// which error was ignored, rather than throwing across the API (std::bad_variant_access).
TEST(ResultDeathTest, ValueOfAnErrorFailsLoudlyWithTheStatus) {
  Result<std::string> failed = Status::not_found("raft: no such node 9");
  EXPECT_DEATH((void)failed.value(),
               "Result::value\\(\\) on an error: NotFound: raft: no such node 9");
  EXPECT_DEATH((void)*failed, "NotFound: raft: no such node 9");
  EXPECT_DEATH((void)failed->size(), "NotFound");
  EXPECT_DEATH((void)std::move(failed).value(), "NotFound");
}

}  // namespace
}  // namespace dengine
