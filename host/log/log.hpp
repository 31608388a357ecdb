// Logging with the original bash dmc's levels (OUT_level for the console, LOG_level for a
// per-run log file in LOG_dir), written through spdlog.
#pragma once

#include <spdlog/common.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace dmc::log {

// Ordered as in the original bash dmc: a sink set to level L shows every message of level <= L.
enum class Level : int {
    none = 0,
    fail = 1,
    error = 2,
    ok = 3,
    task = 4,
    warning = 5,
    stderr_ = 6,
    notice = 7,
    cmd = 8,
    info = 9,
    stdout_ = 10,
    detail = 11,
    assert_ = 12,
    all = 13,
};

std::optional<Level> parse_level(
    std::string_view name);  // case-insensitive, as the original bash dmc names them
std::string_view level_name(Level level);
std::string level_names();  // "NONE FAIL ... ALL", for error messages
spdlog::level::level_enum to_spdlog(Level level);
bool shows(Level threshold, Level message);

struct Settings {
    Level console = Level::notice;
    Level file = Level::info;
    std::optional<std::filesystem::path> dir;  // no log file when unset
    std::optional<bool> color;                 // default: only when stderr is a terminal
    int keep = 30;  // log files kept in dir, the run's own included; 0: all
};

// The process-wide logger. Messages go to stderr (stdout is kept for results such
// as `dmc -a resolve`) and to the run's log file.
class Logger {
  public:
    static Logger& instance();

    // Starts the run: opens the log file and writes the command line and settings.
    void start(const Settings& settings, const std::string& command_line,
               const std::vector<std::pair<std::string, std::string>>& effective);
    void write(Level level, std::string_view message);
    // A result line for stdout (a digest, a pushed reference, a change): shown unless
    // the console is NONE, and kept in the log file as STDOUT.
    void result(std::string_view line);

    void task_begin(int number, std::string_view name, std::string_view description);
    void task_end(bool ok, std::string_view why = {});

    // Ends the run: the exit status is the log file's last line.
    void finish(int exit_status);

    std::optional<std::filesystem::path> file_path() const { return file_path_; }
    // Why the log file stopped taking lines (its disk is full, say); the rest of the
    // run goes to the console only.
    std::optional<std::string> file_failure() const { return file_failure_; }
    const Settings& settings() const { return settings_; }

  private:
    Logger();
    void close_task_line();
    std::string console_text(std::string_view message) const;

    Settings settings_;
    bool tty_ = false;
    bool color_ = false;
    bool task_line_open_ = false;
    std::string task_text_;
    std::shared_ptr<spdlog::logger> console_;
    std::shared_ptr<spdlog::logger> file_;
    std::optional<std::filesystem::path> file_path_;
    std::optional<std::string> file_failure_;
    std::recursive_mutex mutex_;  // task_end writes through write()
};

template <class... Parts>
void write(Level level, Parts&&... parts) {
    std::string message;
    (message.append(std::forward<Parts>(parts)), ...);
    Logger::instance().write(level, message);
}
inline void error(std::string_view m) { Logger::instance().write(Level::error, m); }
inline void warning(std::string_view m) { Logger::instance().write(Level::warning, m); }
inline void notice(std::string_view m) { Logger::instance().write(Level::notice, m); }
inline void info(std::string_view m) { Logger::instance().write(Level::info, m); }
inline void detail(std::string_view m) { Logger::instance().write(Level::detail, m); }
inline void result(std::string_view line) { Logger::instance().result(line); }

}  // namespace dmc::log
