#include "ctl/ctl_flags.h"

#include <algorithm>

namespace dengine::ctl {

std::string CommandLine::flag_or(std::string_view name, std::string_view fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? std::string(fallback) : it->second;
}

Result<CommandLine> parse_command_line(std::span<const std::string> args,
                                       std::span<const std::string_view> known_flags) {
  CommandLine line;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      line.help = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      line.positional.push_back(arg);
      continue;
    }
    std::string_view name = arg;
    name.remove_prefix(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (const size_t equals = name.find('='); equals != std::string_view::npos) {
      value = std::string(name.substr(equals + 1));
      name = name.substr(0, equals);
      has_value = true;
    }
    if (std::find(known_flags.begin(), known_flags.end(), name) == known_flags.end()) {
      return Status::invalid_argument("unknown flag --" + std::string(name));
    }
    if (!has_value) {
      if (i + 1 == args.size()) {
        return Status::invalid_argument("flag --" + std::string(name) + " needs a value");
      }
      value = args[++i];
    }
    if (!line.flags.emplace(std::string(name), std::move(value)).second) {
      return Status::invalid_argument("flag --" + std::string(name) + " is given twice");
    }
  }
  return line;
}

Status expect_positional(const CommandLine& line, size_t count, std::string_view names) {
  if (line.positional.size() == count) return Status::ok();
  return Status::invalid_argument("expects " + std::to_string(count) + " argument" +
                                  (count == 1 ? "" : "s") + " (" + std::string(names) + "), got " +
                                  std::to_string(line.positional.size()));
}

}  // namespace dengine::ctl
