#pragma once

// The script language of tests/raft/testdata/*.txt: one command line, run against an
// InteractionEnv. See docs/raft-core.md ("Interaction tests") for the list of commands.

#include "dengine/status.h"
#include "tests/raft/interaction_env.h"
#include "tests/raft/script_parser.h"

namespace dengine::raft::test {

// Runs `command`; what it did is in env's transcript. An error means the script is wrong
// (unknown command, bad argument, unknown node), not that the core refused something: refusals
// are part of the transcript.
Status run_command(InteractionEnv& env, const ScriptCommand& command);

}  // namespace dengine::raft::test
