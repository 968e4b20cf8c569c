#pragma once

// The datadriven file format of etcd-io/raft's interaction tests, as a plain reader and writer:
//
//   # comments and blank lines between blocks are kept as they are
//   command positional key=value key=(1,2,3)
//   ----
//   expected output, up to the next blank line or the end of the file
//
// A block's output never contains a blank line (the interaction environment prints "ok" for
// nothing), so one separator line is enough.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dengine/status.h"

namespace dengine::raft::test {

// One command line, split into its name, positional words and key=value arguments.
struct ScriptCommand {
  std::string name;
  std::vector<std::string> positional;
  std::map<std::string, std::string> named;

  [[nodiscard]] bool has(const std::string& key) const { return named.contains(key); }
};

// "campaign 1" -> {name: campaign, positional: [1]}; "add-nodes 3 voters=(1,2,3)" -> named.
Result<ScriptCommand> parse_command(const std::string& line);

// Argument conversions with errors a script author can act on.
Result<uint64_t> parse_number(const std::string& text);
// "(1,2,3)" or "1" -> {1, 2, 3} / {1}; "()" -> {}.
Result<std::vector<uint64_t>> parse_number_list(const std::string& text);
Result<bool> parse_bool(const std::string& text);

struct ScriptBlock {
  std::vector<std::string> leading_lines;  // comments and blank lines before the command
  int command_line_number = 0;             // 1-based, for messages
  std::string command;
  std::vector<std::string> expected;  // the output lines recorded in the file
};

struct Script {
  std::vector<ScriptBlock> blocks;
  std::vector<std::string> trailing_lines;  // after the last block
};

Result<Script> parse_script(const std::string& text);
// The file text of `script` with each block's output replaced by `outputs[i]` (the same
// number of blocks), or the recorded output when `outputs` is empty.
std::string render_script(const Script& script,
                          const std::vector<std::vector<std::string>>& outputs);

// Lines of `text` without their newlines; a final newline ends the last line, it does not start
// an empty one.
std::vector<std::string> split_lines(const std::string& text);

}  // namespace dengine::raft::test
