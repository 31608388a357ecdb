#pragma once

namespace dmc::app {

// The whole program: parses the command line, loads the plugins, plans and runs
// the tasks. Returns the exit status; never throws.
int main(int argc, const char* const* argv);

}  // namespace dmc::app
