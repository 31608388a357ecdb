// mmdebstrap's buildd variant, the dependencies installed by apt-get satisfy (with
// --host-architecture for a cross build, where crossbuild-essential-<arch> joins
// them), /build made for the work directory, apt's caches emptied.
#include "source/buildenv.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "log/log.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

namespace fs = std::filesystem;

namespace dmc::source {

namespace {

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::vector<std::string> all_depends(const BuildEnvRequest& r) {
    // Toolchains run on the build machine: :native, as in Build-Depends.
    std::vector<std::string> deps = {"build-essential:native"};
    if (r.host_arch != r.build_arch)
        deps.push_back("crossbuild-essential-" + r.host_arch + ":native");
    deps.insert(deps.end(), r.depends.begin(), r.depends.end());
    return deps;
}

}  // namespace

std::string last_lines(const std::string& text, std::size_t n) {
    std::size_t end = text.size();
    while (end > 0 && text[end - 1] == '\n') --end;
    std::size_t begin = end;
    for (std::size_t lines = 0; begin > 0 && lines < n;) {
        --begin;
        if (text[begin] == '\n') ++lines;
    }
    if (begin > 0 || (begin < end && text[begin] == '\n')) ++begin;
    return text.substr(begin, end - begin);
}

std::string buildenv_key(const BuildEnvRequest& r) {
    std::string text = "buildenv 1\n" + r.dist + "\n" + r.build_arch + "\n" + r.host_arch + "\n";
    for (const auto& s : r.sources) text += "source " + s + "\n";
    auto deps = all_depends(r);
    std::sort(deps.begin(), deps.end());
    for (const auto& d : deps) text += "depends " + d + "\n";
    return sha256_hex(text).substr(0, 16);
}

fs::path ensure_buildenv(const BuildEnvRequest& r, BuildEnvState* state) {
    const fs::path base = r.cache_dir / "buildenv";
    fs::create_directories(base);
    const std::string key = buildenv_key(r);
    const fs::path dir = base / key;
    const std::string stamp = key + "\n" + r.indexes;
    FileLock lock(base / ("." + key + ".lock"));
    std::error_code ec;
    if (fs::exists(dir / "stamp", ec)) {
        const bool current = read_file(dir / "stamp") == stamp;
        if (!r.refresh || current) {
            log::info("build environment " + dir.string() +
                      (current ? " is current" : " is ready (made from older indexes)"));
            if (state) *state = r.refresh ? BuildEnvState::current : BuildEnvState::ready;
            return dir / "root";
        }
        log::notice("the indexes changed since the build environment " + dir.string() +
                    " was made; making it again");
    }
    if (r.check) r.check();
    if (geteuid() != 0)
        throw Error(
            "making the build environment needs root (mmdebstrap runs its maintainer "
            "scripts); run dmc as root");
    const std::string mmdebstrap =
        find_executable("mmdebstrap", std::getenv("PATH") ? std::getenv("PATH") : "");
    if (mmdebstrap.empty())
        throw Error(
            "mmdebstrap is not installed; install it (apt-get install mmdebstrap) to build "
            "from source");
    const fs::path tmp = temp_sibling(dir);
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp);
    std::string satisfy = "chroot \"$1\" apt-get satisfy -y -q --no-install-recommends";
    if (r.host_arch != r.build_arch) satisfy += " --host-architecture " + quoted(r.host_arch);
    for (const auto& d : all_depends(r)) satisfy += " " + quoted(d);
    std::vector<std::string> argv = {
        mmdebstrap,
        "--mode=root",
        "--variant=buildd",
        "--architectures=" + r.build_arch + (r.host_arch != r.build_arch ? "," + r.host_arch : ""),
        "--customize-hook=" + satisfy,
        "--customize-hook=mkdir -p \"$1/build\"",
        "--customize-hook=chroot \"$1\" apt-get clean",
        r.dist,
        (tmp / "root").string()};
    argv.insert(argv.end(), r.sources.begin(), r.sources.end());
    log::notice("making the build environment for " + r.dist + " " + r.host_arch +
                (r.host_arch != r.build_arch ? " (cross, on " + r.build_arch + ")" : "") + " in " +
                dir.string() + "; its log: " + r.log_file.string());
    ProcessRun run;
    fs::create_directories(r.log_file.parent_path(), ec);
    try {
        ProcessRequest request{argv, {}, std::string(), true, r.timeout};
        request.output_file = r.log_file;
        run = run_process(request);
    } catch (const Error& e) {
        fs::remove_all(tmp, ec);
        throw;
    }
    if (run.status != 0) {
        fs::remove_all(tmp, ec);
        for (const auto& line : {last_lines(run.output, 12)}) log::error(line);
        throw Error("the build environment for " + r.dist + " " + r.host_arch +
                    " could not be made (mmdebstrap exit " + std::to_string(run.status) +
                    "; a build dependency missing?); see " + r.log_file.string());
    }
    write_file_atomic(tmp / "stamp", stamp);
    // The old environment goes only once the new one is whole.
    const fs::path old = temp_sibling(dir);
    fs::remove_all(old, ec);
    fs::rename(dir, old, ec);
    fs::rename(tmp, dir);
    fs::remove_all(old, ec);
    if (state) *state = BuildEnvState::made;
    return dir / "root";
}

}  // namespace dmc::source
