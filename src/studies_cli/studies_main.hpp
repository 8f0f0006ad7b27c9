// ib-studies: parse the command line, then run the study over a replay file
// or live over SSE / WebSocket until --limit, --duration, Ctrl+C or a fatal
// error; the final summary is printed in every case but a failed start.
#pragma once

namespace studies_cli {

/// The whole program; returns the process exit code (options.hpp).
int main(int argc, char** argv);

} // namespace studies_cli
