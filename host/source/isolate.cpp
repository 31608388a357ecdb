// The isolation, with util-linux's unshare, chroot and setpriv: every step of it
// checked by the shell that sets it up (`sh -e`), so a mount that fails stops it.
#include "source/isolate.hpp"

#include <unistd.h>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"

namespace fs = std::filesystem;

namespace dmc::source {

namespace {

// Inside the new namespaces: $1 the root, $2 the work dir, $3 the cwd, $4 the uid.
constexpr const char* kSetup = R"(
mount --make-rprivate /
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
mount --bind "$2" "$1/build"
mount -t proc proc "$1/proc"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$1/tmp"
shift 4
exec chroot "$ROOT" /usr/bin/setpriv --reuid="$BUILD_UID" --regid="$BUILD_UID" --clear-groups \
    --no-new-privs --inh-caps=-all --bounding-set=-all \
    /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/build LC_ALL=C.UTF-8 "$@" \
    /bin/sh -c 'cd "$0" && exec /bin/sh -e /build/.dmc-step' "$CWD"
)";

}  // namespace

IsolatedRun run_isolated(const IsolatedCommand& c) {
    if (geteuid() != 0)
        throw Error(
            "building from source needs root (for the build environment and the "
            "build's namespaces); run dmc as root");
    write_file_atomic(c.work / ".dmc-step", c.command + "\n");
    const std::string unshare = find_executable("unshare", "/usr/bin:/bin");
    if (unshare.empty())
        throw Error("unshare (util-linux) is not installed; it isolates the build from source");
    std::vector<std::string> argv = {
        unshare,  "--mount",       "--pid",         "--net", "--ipc", "--uts",
        "--fork", "--kill-child",  "/bin/sh",       "-e",    "-c",    kSetup,
        "sh",     c.root.string(), c.work.string(), c.cwd,   "-"};
    argv.insert(argv.end(), c.env.begin(), c.env.end());
    ProcessRequest request;
    request.argv = argv;
    request.env = {"ROOT=" + c.root.string(), "CWD=" + c.cwd,
                   "BUILD_UID=" + std::to_string(kBuildUid)};
    request.input = std::string();
    request.timeout = c.timeout;
    request.output_file = c.log;
    IsolatedRun run;
    try {
        auto r = run_process(request);
        run.status = r.status;
        run.output = std::move(r.output);
    } catch (const TimeoutError& e) {
        run.status = 128 + 9;
        run.timed_out = true;
        run.output = e.what();
    }
    return run;
}

}  // namespace dmc::source
