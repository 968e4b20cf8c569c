#include "kv/record_cache.h"

#include <string>

#include <gtest/gtest.h>

namespace dengine::kv {
namespace {

MvccRecord record_of(const std::string& key, size_t value_bytes) {
  MvccRecord record;
  record.kv.key = key;
  record.kv.value = std::string(value_bytes, 'v');
  return record;
}

// Room for about three records of a 1,000-byte value (each also costs its bookkeeping).
constexpr uint64_t kThreeRecordsBytes = 3 * 1'200;

TEST(RecordCache, FindsWhatWasInsertedAndNothingElse) {
  RecordCache cache(kThreeRecordsBytes);
  cache.insert(Revision{2, 0}, record_of("a", 1'000));
  ASSERT_TRUE(cache.find(Revision{2, 0}).has_value());
  EXPECT_EQ(cache.find(Revision{2, 0})->kv.key, "a");
  EXPECT_FALSE(cache.find(Revision{2, 1}).has_value());
  EXPECT_FALSE(cache.find(Revision{3, 0}).has_value());
}

TEST(RecordCache, NeverHoldsMoreThanItsCapacity) {
  RecordCache cache(kThreeRecordsBytes);
  for (int64_t main = 2; main < 100; ++main) {
    cache.insert(Revision{main, 0}, record_of("k" + std::to_string(main), 1'000));
    EXPECT_LE(cache.size_bytes(), kThreeRecordsBytes);
  }
  EXPECT_TRUE(cache.find(Revision{99, 0}).has_value());  // the newest stays
  EXPECT_FALSE(cache.find(Revision{2, 0}).has_value());  // the oldest went first
}

TEST(RecordCache, ARecordReadSinceItWasCachedGetsASecondChance) {
  RecordCache cache(kThreeRecordsBytes);
  cache.insert(Revision{2, 0}, record_of("a", 1'000));
  cache.insert(Revision{3, 0}, record_of("b", 1'000));
  cache.insert(Revision{4, 0}, record_of("c", 1'000));
  ASSERT_TRUE(cache.find(Revision{2, 0}).has_value());
  cache.insert(Revision{5, 0}, record_of("d", 1'000));
  EXPECT_TRUE(cache.find(Revision{2, 0}).has_value());   // read: kept
  EXPECT_FALSE(cache.find(Revision{3, 0}).has_value());  // unread and oldest: evicted
}

TEST(RecordCache, AnErasedRecordIsGone) {
  RecordCache cache(kThreeRecordsBytes);
  cache.insert(Revision{2, 0}, record_of("a", 1'000));
  cache.erase(Revision{2, 0});
  EXPECT_FALSE(cache.find(Revision{2, 0}).has_value());
  EXPECT_EQ(cache.size_bytes(), 0U);
}

TEST(RecordCache, ARecordLargerThanTheWholeCacheIsNotKept) {
  RecordCache cache(kThreeRecordsBytes);
  cache.insert(Revision{2, 0}, record_of("a", 1'000));
  cache.insert(Revision{3, 0}, record_of("huge", 10'000));
  EXPECT_FALSE(cache.find(Revision{3, 0}).has_value());
  EXPECT_TRUE(cache.find(Revision{2, 0}).has_value());
}

TEST(RecordCache, AZeroCapacityCachesNothing) {
  RecordCache cache(0);
  cache.insert(Revision{2, 0}, record_of("a", 1));
  EXPECT_FALSE(cache.find(Revision{2, 0}).has_value());
}

}  // namespace
}  // namespace dengine::kv
