// Data-driven interaction tests (modelled on etcd-io/raft's testdata/*.txt): each file in
// tests/raft/testdata is a script of commands and the transcript they must produce. Run with
// DENGINE_REWRITE_GOLDEN=1 to record the transcripts instead of comparing them.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/raft/interaction_commands.h"
#include "tests/raft/interaction_env.h"
#include "tests/raft/raft_test_util.h"
#include "tests/raft/script_parser.h"

#ifndef DENGINE_RAFT_TESTDATA_DIR
#error "tests/CMakeLists.txt defines DENGINE_RAFT_TESTDATA_DIR (the absolute testdata path)"
#endif

namespace dengine::raft::test {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxBlocksShown = 3;
constexpr size_t kMaxDiffLines = 80;
constexpr size_t kContextLines = 3;

std::vector<std::string> golden_files() {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(DENGINE_RAFT_TESTDATA_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());  // directory order is not deterministic
  return names;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool rewrite_requested() {
  const char* value = std::getenv("DENGINE_REWRITE_GOLDEN");
  return value != nullptr && std::string(value) == "1";
}

// A line diff (longest common subsequence): ' ' kept, '-' only expected, '+' only actual.
std::vector<std::string> diff_lines(const std::vector<std::string>& expected,
                                    const std::vector<std::string>& actual) {
  const size_t n = expected.size();
  const size_t m = actual.size();
  std::vector<std::vector<size_t>> common(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      common[i][j] = expected[i] == actual[j] ? common[i + 1][j + 1] + 1
                                              : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] == actual[j]) {
      out.push_back(" " + expected[i++]);
      ++j;
    } else if (i < n && (j == m || common[i + 1][j] >= common[i][j + 1])) {
      out.push_back("-" + expected[i++]);
    } else {
      out.push_back("+" + actual[j++]);
    }
  }
  return out;
}

// The changed lines of `diff` with kContextLines unchanged ones around each; "..." for the rest.
std::vector<std::string> only_near_changes(const std::vector<std::string>& diff) {
  std::vector<bool> keep(diff.size(), false);
  for (size_t i = 0; i < diff.size(); ++i) {
    if (diff[i].front() == ' ') continue;
    const size_t from = i >= kContextLines ? i - kContextLines : 0;
    const size_t to = std::min(diff.size(), i + kContextLines + 1);
    for (size_t k = from; k < to; ++k) keep[k] = true;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < diff.size(); ++i) {
    if (keep[i]) {
      out.push_back(diff[i]);
    } else if (out.empty() || out.back() != "...") {
      out.push_back("...");
    }
  }
  return out;
}

// Runs every block of `script`; returns each block's transcript.
std::vector<std::vector<std::string>> run_script(const Script& script, const std::string& file) {
  ScopedThrowingCheckHandler throwing_checks;  // a broken core invariant becomes output
  InteractionEnv env;
  std::vector<std::vector<std::string>> outputs;
  for (const ScriptBlock& block : script.blocks) {
    const std::string where = file + ":" + std::to_string(block.command_line_number);
    Status status = Status::ok();
    try {
      Result<ScriptCommand> command = parse_command(block.command);
      status = command ? run_command(env, *command) : command.status();
    } catch (const CheckFailure& failure) {
      env.print("CHECK FAILED: " + failure.condition);
      ADD_FAILURE() << where << ": a core invariant failed: " << failure.condition;
    }
    if (!status) {
      env.print("script error: " + status.to_string());
      ADD_FAILURE() << where << ": " << status.to_string();
    }
    std::vector<std::string> lines = env.take_transcript();
    if (lines.empty()) lines.push_back("ok");
    outputs.push_back(std::move(lines));
  }
  return outputs;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, TranscriptMatchesGolden) {
  const fs::path path = fs::path(DENGINE_RAFT_TESTDATA_DIR) / GetParam();
  const std::string text = read_file(path);
  Result<Script> script = parse_script(text);
  ASSERT_TRUE(script.has_value()) << path << ": " << script.status().to_string();
  const std::vector<std::vector<std::string>> outputs = run_script(*script, GetParam());
  const std::string actual = render_script(*script, outputs);

  if (rewrite_requested()) {
    if (actual != text) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
      std::cout << "rewrote " << path.string() << "\n";
    }
    return;
  }
  if (actual == render_script(*script, {})) return;

  std::ostringstream report;
  size_t shown = 0;
  for (size_t b = 0; b < script->blocks.size() && shown < kMaxBlocksShown; ++b) {
    const ScriptBlock& block = script->blocks[b];
    if (block.expected == outputs[b]) continue;
    ++shown;
    report << "--- " << GetParam() << ":" << block.command_line_number << " (expected)\n"
           << "+++ " << block.command << " (actual)\n";
    std::vector<std::string> diff = only_near_changes(diff_lines(block.expected, outputs[b]));
    if (diff.size() > kMaxDiffLines) diff.resize(kMaxDiffLines);
    for (const std::string& line : diff) report << line << "\n";
  }
  ADD_FAILURE() << path.string() << ": the transcript differs from the golden file.\n"
                << report.str()
                << "If the new behaviour is intended, rewrite the golden files with\n"
                << "  DENGINE_REWRITE_GOLDEN=1 raft_test --gtest_filter='Interaction*'\n"
                << "and review the change with git diff.";
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Interaction, InteractionTest, ::testing::ValuesIn(golden_files()),
                         test_name);

}  // namespace
}  // namespace dengine::raft::test
