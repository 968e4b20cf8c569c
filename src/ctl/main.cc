// dengine-ctl: the operator's tool beside dengine-server, as etcdctl's offline commands are
// beside etcd. `snapshot status` and `snapshot restore` read what `etcdctl snapshot save` saved
// from a dengine-server; `wal inspect` reads a data dir's WAL. Errors are one line on stderr and
// a non-zero exit status.

#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/snapshot_restore.h"
#include "ctl/snapshot_status.h"
#include "ctl/wal_inspect.h"

namespace {

using Run = int (*)(std::span<const std::string>, std::ostream&, std::ostream&);

struct Command {
  std::string_view group;
  std::string_view name;
  Run run;
};

constexpr Command kCommands[] = {
    {"snapshot", "status", dengine::ctl::run_snapshot_status},
    {"snapshot", "restore", dengine::ctl::run_snapshot_restore},
    {"wal", "inspect", dengine::ctl::run_wal_inspect},
};

constexpr std::string_view kUsage =
    "usage: dengine-ctl COMMAND [ARGS...]\n"
    "\n"
    "  snapshot status FILE                   check a saved snapshot and show what it holds\n"
    "  snapshot restore FILE --data-dir DIR   make a new cluster's data dir from a snapshot\n"
    "  wal inspect DIR                        list a data dir's WAL segments and any damage\n"
    "\n"
    "Save snapshots with `etcdctl --endpoints=HOST:PORT snapshot save FILE`.\n"
    "`dengine-ctl COMMAND --help` describes each command.\n";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "dengine-ctl 0.1.0\n";
    return 0;
  }
  for (const Command& command : kCommands) {
    if (args.size() >= 2 && args[0] == command.group && args[1] == command.name) {
      return command.run(std::span(args).subspan(2), std::cout, std::cerr);
    }
    if (args.size() == 2 && args[0] == command.group && (args[1] == "--help" || args[1] == "-h")) {
      std::cout << kUsage;
      return 0;
    }
  }
  std::string given = args[0];
  if (args.size() >= 2) given += " " + args[1];
  std::cerr << "dengine-ctl: unknown command \"" << given << "\"\n" << kUsage;
  return 2;
}
