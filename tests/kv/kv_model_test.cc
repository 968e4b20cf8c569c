// Random histories (fixed seeds) checked against a reference model that keeps the whole
// keyspace at every revision: reads at every uncompacted revision, counts, and the event
// history must match it after every step, across compactions, snapshots and crashes.

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

using Keyspace = std::map<std::string, KeyValue>;

// etcd's data model, written the obvious way: a full copy of the keyspace per revision.
class ReferenceModel {
 public:
  ReferenceModel() { states_[1] = {}; }

  int64_t revision() const { return states_.rbegin()->first; }
  int64_t compacted() const { return compacted_; }
  const Keyspace& at(int64_t revision) const {
    return std::prev(states_.upper_bound(revision))->second;
  }

  // One write: puts and deletes of distinct keys at the next revision (nothing: no revision).
  void write(const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
    Keyspace next = states_.rbegin()->second;
    const int64_t rev = revision() + 1;
    bool changed = false;
    for (const auto& [key, value] : changes) {
      if (value) {
        KeyValue& kv = next[key];
        const bool exists = at(revision()).contains(key);
        kv = KeyValue{.key = key,
                      .create_revision = exists ? kv.create_revision : rev,
                      .mod_revision = rev,
                      .version = exists ? kv.version + 1 : 1,
                      .value = *value,
                      .lease = kNoLease};
        changed = true;
      } else if (next.erase(key) > 0) {
        changed = true;
      }
    }
    if (changed) states_[rev] = std::move(next);
  }
  void compact(int64_t revision) { compacted_ = revision; }

  // The events from `start` (> compacted) on, derived from consecutive states.
  std::vector<Event> events_from(int64_t start) const {
    std::vector<Event> events;
    for (int64_t rev = start; rev <= revision(); ++rev) {
      const Keyspace& before = at(rev - 1);
      const Keyspace& after = at(rev);
      for (const auto& [key, kv] : after) {
        if (kv.mod_revision != rev) continue;
        Event event{.type = EventType::kPut, .kv = kv, .prev_kv = std::nullopt};
        if (auto it = before.find(key); it != before.end() && rev - 1 >= compacted_) {
          event.prev_kv = it->second;
        }
        events.push_back(event);
      }
      for (const auto& [key, kv] : before) {
        if (after.contains(key)) continue;
        Event event{.type = EventType::kDelete,
                    .kv = KeyValue{.key = key,
                                   .create_revision = 0,
                                   .mod_revision = rev,
                                   .version = 0,
                                   .value = {},
                                   .lease = kNoLease},
                    .prev_kv = kv};
        events.push_back(event);
      }
    }
    return events;
  }

 private:
  std::map<int64_t, Keyspace> states_;
  int64_t compacted_ = -1;
};

class KvModel : public KvSemanticsTest {};
DENGINE_KV_SUITE(KvModel);

// Events within a revision come in write order; the model lists them by key, so compare sorted.
std::vector<Event> sorted_within_revisions(std::vector<Event> events) {
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.kv.mod_revision != b.kv.mod_revision) return a.kv.mod_revision < b.kv.mod_revision;
    return a.kv.key < b.kv.key;
  });
  return events;
}

TEST_P(KvModel, RandomHistoriesMatchAReferenceModel) {
  const std::vector<std::string> keys = {"a", "b", "b/1", "b/2", "c"};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SetUp();  // a fresh store per seed
    std::mt19937_64 rng(seed);
    ReferenceModel model;
    auto random_key = [&] { return keys[rng() % keys.size()]; };
    for (int step = 0; step < 200; ++step) {
      const uint64_t choice = rng() % 100;
      if (choice < 45) {
        const std::string key = random_key();
        const std::string value = std::to_string(rng() % 1000);
        put(key, value);
        model.write({{key, value}});
      } else if (choice < 60) {
        const std::string key = random_key();
        del(key);
        model.write({{key, std::nullopt}});
      } else if (choice < 75) {
        // A txn writing distinct keys (etcd refuses duplicates).
        TxnRequest request;
        std::vector<std::pair<std::string, std::optional<std::string>>> changes;
        for (const std::string& key : keys) {
          const uint64_t what = rng() % 3;
          if (what == 0) continue;
          std::optional<std::string> value;
          if (what == 1) value = "t" + std::to_string(step);
          request.success.push_back(value ? op_put(key, *value) : op_delete(key));
          changes.emplace_back(key, value);
        }
        txn(request);
        model.write(changes);
      } else if (choice < 82) {
        const int64_t low = model.compacted() + 1;
        if (low <= model.revision()) {
          const int64_t target = low + static_cast<int64_t>(rng() % (model.revision() - low + 1));
          compact(target);
          model.compact(target);
        }
      } else if (choice < 88) {
        const std::string image = fresh_test_dir() + "/image";
        ASSERT_TRUE(store().write_snapshot(image).has_value());
        ASSERT_TRUE(store().install_snapshot(image).is_ok());
      } else if (choice < 94) {
        ASSERT_TRUE(store().flush().is_ok());
        crash_and_recover();  // everything was flushed: nothing is lost
      }
      ASSERT_EQ(store().current_revision(), model.revision());

      // Every readable revision, the whole keyspace.
      const int64_t first_readable = std::max<int64_t>(1, model.compacted());
      for (int64_t rev = first_readable; rev <= model.revision(); ++rev) {
        RangeRequest request = range_request(kAllKeys, kAllKeys);
        request.revision = rev;
        std::vector<KeyValue> expected;
        for (const auto& [key, kv] : model.at(rev)) expected.push_back(kv);
        const RangeResponse response = range(request);
        ASSERT_EQ(response.kvs, expected) << "at revision " << rev << ", step " << step;
        ASSERT_EQ(response.count, static_cast<int64_t>(expected.size()));
      }
      const int64_t event_start = std::max<int64_t>(2, model.compacted() + 1);
      ASSERT_EQ(sorted_within_revisions(events_from(event_start, /*prev_kv=*/true)),
                sorted_within_revisions(model.events_from(event_start)))
          << "step " << step;
    }
    TearDown();
  }
}

}  // namespace
}  // namespace dengine::kv::test
