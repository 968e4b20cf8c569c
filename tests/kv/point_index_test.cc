#include "kv/point_index.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "common/splitmix64.h"

namespace dengine::kv {
namespace {

// Every key in one probe run: lookups and deletions must walk and repair whole runs.
struct CollidingHash {
  size_t operator()(std::string_view) const noexcept { return 7; }
};

TEST(PointIndex, FindsWhatWasInsertedAndNothingElse) {
  std::map<std::string, int, std::less<>> nodes{{"a", 1}, {"b", 2}};
  PointIndex<std::string_view, int> index;
  EXPECT_TRUE(index.find("a") == nullptr);
  for (auto& [key, value] : nodes) index.insert(key, &value);
  EXPECT_TRUE(index.find("a") == &nodes.at("a"));
  EXPECT_TRUE(index.find("b") == &nodes.at("b"));
  EXPECT_TRUE(index.find("c") == nullptr);
}

TEST(PointIndex, ErasingFromACollidingRunKeepsTheRestFindable) {
  std::map<std::string, int, std::less<>> nodes;
  for (int i = 0; i < 40; ++i) nodes.emplace(std::to_string(i), i);  // grows past 16 slots
  PointIndex<std::string_view, int, CollidingHash> index;
  for (auto& [key, value] : nodes) index.insert(key, &value);
  for (int i = 0; i < 40; i += 3) index.erase(std::to_string(i));
  for (int i = 0; i < 40; ++i) {
    const std::string key = std::to_string(i);
    const int* expected = i % 3 == 0 ? nullptr : &nodes.at(key);
    EXPECT_TRUE(index.find(key) == expected) << key;
  }
}

// Random inserts and erases agree with the ordered map they index, wrapping around the table.
TEST(PointIndex, AgreesWithTheMapItIndexesUnderRandomChurn) {
  std::map<std::string, uint64_t, std::less<>> nodes;
  PointIndex<std::string_view, uint64_t> index;
  uint64_t rng = 11;
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t n = splitmix64_next(rng) % 500;
    const std::string key = "k" + std::to_string(n);
    if (auto it = nodes.find(key); it != nodes.end()) {
      index.erase(it->first);
      nodes.erase(it);
    } else {
      auto inserted = nodes.emplace(key, n).first;
      index.insert(inserted->first, &inserted->second);
    }
  }
  EXPECT_EQ(index.size(), nodes.size());
  for (uint64_t n = 0; n < 500; ++n) {
    const std::string key = "k" + std::to_string(n);
    auto it = nodes.find(key);
    EXPECT_TRUE(index.find(key) == (it == nodes.end() ? nullptr : &it->second)) << key;
  }
}

}  // namespace
}  // namespace dengine::kv
