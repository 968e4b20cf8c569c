#include "tests/raft/script_parser.h"

#include <charconv>
#include <sstream>
#include <utility>

namespace dengine::raft::test {

namespace {
constexpr const char* kSeparator = "----";

bool is_verbatim(const std::string& line) {
  return line.empty() || line.front() == '#';
}
}  // namespace

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

Result<ScriptCommand> parse_command(const std::string& line) {
  std::istringstream in(line);
  ScriptCommand command;
  if (!(in >> command.name)) return Status::invalid_argument("empty command line");
  std::string word;
  while (in >> word) {
    const size_t equals = word.find('=');
    if (equals == std::string::npos) {
      command.positional.push_back(word);
      continue;
    }
    const std::string key = word.substr(0, equals);
    if (key.empty()) return Status::invalid_argument("argument '" + word + "' has no name");
    if (!command.named.emplace(key, word.substr(equals + 1)).second) {
      return Status::invalid_argument("argument '" + key + "' is given twice");
    }
  }
  return command;
}

Result<uint64_t> parse_number(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end || text.empty()) {
    return Status::invalid_argument("'" + text + "' is not a number");
  }
  return value;
}

Result<std::vector<uint64_t>> parse_number_list(const std::string& text) {
  std::string inner = text;
  if (inner.size() >= 2 && inner.front() == '(' && inner.back() == ')') {
    inner = inner.substr(1, inner.size() - 2);
  }
  std::vector<uint64_t> numbers;
  std::istringstream in(inner);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    Result<uint64_t> number = parse_number(item);
    if (!number) return number.status();
    numbers.push_back(*number);
  }
  return numbers;
}

Result<bool> parse_bool(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return Status::invalid_argument("'" + text + "' is neither true nor false");
}

Result<Script> parse_script(const std::string& text) {
  const std::vector<std::string> lines = split_lines(text);
  Script script;
  std::vector<std::string> pending;  // verbatim lines not yet attached to a block
  size_t i = 0;
  while (i < lines.size()) {
    if (is_verbatim(lines[i])) {
      pending.push_back(lines[i++]);
      continue;
    }
    ScriptBlock block;
    block.leading_lines = std::move(pending);
    pending.clear();
    block.command_line_number = static_cast<int>(i + 1);
    block.command = lines[i++];
    if (i >= lines.size() || lines[i] != kSeparator) {
      return Status::invalid_argument("line " + std::to_string(block.command_line_number) +
                                      ": command '" + block.command + "' is not followed by " +
                                      kSeparator);
    }
    ++i;
    while (i < lines.size() && !lines[i].empty()) block.expected.push_back(lines[i++]);
    script.blocks.push_back(std::move(block));
  }
  script.trailing_lines = std::move(pending);
  return script;
}

std::string render_script(const Script& script,
                          const std::vector<std::vector<std::string>>& outputs) {
  std::string text;
  auto add = [&text](const std::string& line) {
    text += line;
    text += '\n';
  };
  for (size_t b = 0; b < script.blocks.size(); ++b) {
    const ScriptBlock& block = script.blocks[b];
    for (const std::string& line : block.leading_lines) add(line);
    add(block.command);
    add(kSeparator);
    for (const std::string& line : outputs.empty() ? block.expected : outputs[b]) add(line);
  }
  for (const std::string& line : script.trailing_lines) add(line);
  return text;
}

}  // namespace dengine::raft::test
