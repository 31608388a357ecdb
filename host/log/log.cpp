#include "log/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "util/error.hpp"
#include "util/text.hpp"

namespace dmc::log {
namespace {

constexpr std::array<std::string_view, 14> kNames = {"NONE",    "FAIL",   "ERROR",  "OK",  "TASK",
                                                     "WARNING", "STDERR", "NOTICE", "CMD", "INFO",
                                                     "STDOUT",  "DETAIL", "ASSERT", "ALL"};

const char* color_of(Level level) {
    switch (level) {
        case Level::fail:
        case Level::error:
            return "\033[1;31m";
        case Level::ok:
            return "\033[1;32m";
        case Level::task:
            return "\033[1;34m";
        case Level::warning:
        case Level::stderr_:
            return "\033[1;33m";
        case Level::notice:
            return "\033[1m";
        default:
            return "";
    }
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == upper) return static_cast<Level>(i);
    return std::nullopt;
}

std::string_view level_name(Level level) { return kNames.at(static_cast<std::size_t>(level)); }

std::string level_names() {
    std::string out;
    for (auto name : kNames) {
        if (!out.empty()) out += ' ';
        out += name;
    }
    return out;
}

// spdlog has six severities for the original bash dmc's thirteen: that level decides what
// is shown, the spdlog level is what other spdlog sinks and tools see.
spdlog::level::level_enum to_spdlog(Level level) {
    switch (level) {
        case Level::none:
            return spdlog::level::off;
        case Level::fail:
            return spdlog::level::critical;
        case Level::error:
            return spdlog::level::err;
        case Level::warning:
        case Level::stderr_:
            return spdlog::level::warn;
        case Level::ok:
        case Level::task:
        case Level::notice:
        case Level::info:
            return spdlog::level::info;
        case Level::cmd:
        case Level::stdout_:
        case Level::detail:
            return spdlog::level::debug;
        case Level::assert_:
        case Level::all:
            return spdlog::level::trace;
    }
    return spdlog::level::info;
}

bool shows(Level threshold, Level message) {
    return message != Level::none && static_cast<int>(message) <= static_cast<int>(threshold);
}

Logger& Logger::instance() {
    static Logger logger;
    return logger;
}

Logger::Logger() {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    console_ = std::make_shared<spdlog::logger>("dmc", sink);
    console_->set_pattern("%v");
    console_->set_level(spdlog::level::trace);
    tty_ = ::isatty(STDERR_FILENO) == 1;
    color_ = tty_;
}

// Keeps the newest `keep` run logs of the directory (their names sort by start time).
void remove_old_logs(const std::filesystem::path& dir, int keep) {
    if (keep <= 0) return;
    std::vector<std::filesystem::path> logs;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("dmc-", 0) == 0 && entry.path().extension() == ".log" &&
            entry.is_regular_file(ec))
            logs.push_back(entry.path());
    }
    std::sort(logs.begin(), logs.end());
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < logs.size(); ++i)
        std::filesystem::remove(logs[i], ec);
}

void Logger::start(const Settings& settings, const std::string& command_line,
                   const std::vector<std::pair<std::string, std::string>>& effective) {
    settings_ = settings;
    color_ = settings.color.value_or(tty_);
    file_.reset();
    file_path_.reset();
    file_failure_.reset();
    if (settings.dir && settings.file != Level::none) {
        std::error_code ec;
        std::filesystem::create_directories(*settings.dir, ec);
        char stamp[32];
        std::time_t now = std::time(nullptr);
        std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
        auto path = *settings.dir /
                    ("dmc-" + std::string(stamp) + "-" + std::to_string(::getpid()) + ".log");
        try {
            auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), true);
            file_ = std::make_shared<spdlog::logger>("dmc-file", sink);
        } catch (const spdlog::spdlog_ex& e) {
            throw Error("LOG_dir " + settings.dir->string() + " is not writable: " + e.what() +
                        "; set LOG_dir to a writable directory");
        }
        file_->set_error_handler([this](const std::string& why) {
            if (!file_failure_) file_failure_ = why;
        });
        file_->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
        file_->set_level(spdlog::level::trace);
        file_->flush_on(spdlog::level::trace);
        file_path_ = path;
        remove_old_logs(*settings.dir, settings.keep);
        file_->info("dmc {} started: {}", DMC_VERSION, redact_credentials(command_line));
        for (const auto& [key, value] : effective)
            file_->info("  {} = {}", key, redact_credentials(value));
    }
}

void Logger::close_task_line() {
    if (task_line_open_) {
        std::fputc('\n', stderr);
        task_line_open_ = false;
    }
}

// A console line stays readable; the log file keeps the whole text.
std::string Logger::console_text(std::string_view message) const {
    std::string shown = cut_for_console(message);
    if (shown != message)
        shown.insert(shown.size() - 1, file_path_
                                           ? "; the whole text is in " + file_path_->string()
                                           : "; set LOG_dir to keep the whole text in a log file");
    return shown;
}

// What reaches a console or a log file: credentials redacted, and no control
// character but line breaks, whoever wrote the text (a plugin, a server, a user).
std::string printable(std::string_view raw) { return escape_controls(redact_credentials(raw)); }

void Logger::write(Level level, std::string_view raw) {
    std::lock_guard lock(mutex_);  // downloads and uploads log from their threads
    const std::string redacted = printable(raw);
    const std::string_view message = redacted;
    if (shows(settings_.console, level)) {
        close_task_line();
        const std::string shown = console_text(message);
        if (color_ && *color_of(level) != '\0') {
            console_->log(to_spdlog(level), "{}{:<7}\033[0m {}", color_of(level), level_name(level),
                          shown);
        } else {
            console_->log(to_spdlog(level), "{:<7} {}", level_name(level), shown);
        }
        console_->flush();
    }
    if (file_ && !file_failure_ && shows(settings_.file, level))
        file_->log(to_spdlog(level), "{:<7} {}", level_name(level), message);
}

void Logger::result(std::string_view line) {
    std::lock_guard lock(mutex_);
    if (settings_.console != Level::none) {
        if (tty_) close_task_line();
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    if (file_ && shows(settings_.file, Level::stdout_))
        file_->log(to_spdlog(Level::stdout_), "{:<7} {}", level_name(Level::stdout_),
                   printable(line));
}

void Logger::task_begin(int number, std::string_view name, std::string_view description) {
    std::lock_guard lock(mutex_);
    task_text_ =
        std::to_string(number) + " " + std::string(name) + " : " + std::string(description);
    if (file_ && shows(settings_.file, Level::task)) {
        file_->info("==================== task {} ====================", task_text_);
    }
    if (!shows(settings_.console, Level::task)) return;
    close_task_line();
    if (tty_) {
        std::fprintf(stderr, "[ %s....%s ] %s", color_ ? "\033[1;34m" : "", color_ ? "\033[0m" : "",
                     task_text_.c_str());
        std::fflush(stderr);
        task_line_open_ = true;
    } else {
        console_->info("TASK    {}", task_text_);
        console_->flush();
    }
}

void Logger::task_end(bool ok, std::string_view raw_why) {
    std::lock_guard lock(mutex_);
    const std::string redacted = printable(raw_why);
    const std::string_view why = redacted;
    Level level = ok ? Level::ok : Level::fail;
    if (file_ && shows(settings_.file, level)) {
        file_->log(to_spdlog(level), "{:<7} {}{}{}", level_name(level), task_text_,
                   why.empty() ? "" : ": ", why);
    }
    if (!shows(settings_.console, level)) {
        task_line_open_ = false;
        return;
    }
    if (tty_) {
        const char* mark = ok ? " OK " : "FAIL";
        const char* color = color_ ? color_of(level) : "";
        if (task_line_open_) std::fputc('\r', stderr);
        std::fprintf(stderr, "[ %s%s%s ] %s\n", color, mark, color_ ? "\033[0m" : "",
                     task_text_.c_str());
        task_line_open_ = false;
        if (!ok && !why.empty()) write(Level::fail, why);
    } else {
        console_->log(to_spdlog(level), "{:<7} {}{}{}", level_name(level), task_text_,
                      why.empty() ? "" : ": ", console_text(why));
        console_->flush();
    }
}

void Logger::finish(int exit_status) {
    std::lock_guard lock(mutex_);
    close_task_line();
    if (file_) {
        file_->info("dmc finished with exit status {}", exit_status);
        file_->flush();
    }
}

}  // namespace dmc::log
