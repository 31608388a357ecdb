// The system users and groups a real install of the packages would have, without
// running anything: Debian's fixed ones from base-passwd's masters, then those the
// packages' maintainer scripts create, with the ids each tool would have given them
// on an empty system, in the order the scripts would have run:
//   adduser --system [--group | --ingroup G | --gid N] [--uid N] [--home H] [--shell S] NAME
//   addgroup --system [--gid N] NAME      (adduser --group NAME too)
//       the first free id from 100 up (adduser.conf's FIRST_SYSTEM_UID/GID..999);
//       a system user without a group of its own is in nogroup
//   useradd -r [-u N] [-g G | -N] [-d H] [-s S] [-c C] NAME, groupadd -r [-g N] NAME
//       the first free id from 999 down (login.defs' SYS_UID_MAX..SYS_UID_MIN, 101);
//       useradd makes a group of the user's name (USERGROUPS_ENAB), its id the
//       uid when that is free
//   systemd-sysusers CONF...              the conf files' u and g lines, from 999 down
// A name that exists already is left as it is, as each tool leaves it. The result is
// written as the rootfs's /etc/passwd and /etc/group, which Configure::system_user()
// reads; the image gets only the users its templates add.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rootfs/alternatives.hpp"
#include "rootfs/manifest.hpp"
#include "rootfs/script.hpp"

namespace dmc::rootfs {

struct SystemUser {
    std::string name;
    std::uint32_t uid = 0, gid = 0;
    std::string gecos, home = "/nonexistent", shell = "/usr/sbin/nologin";
    std::string created_by;  // "mariadb-server's preinst", or "" for base-passwd's
};

struct SystemGroup {
    std::string name;
    std::uint32_t gid = 0;
    std::string created_by;
};

class Accounts {
  public:
    // base-passwd's passwd.master and group.master; without them, root and nobody.
    static Accounts from_masters(const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group);

    const SystemUser* user(const std::string& name) const;
    const SystemGroup* group(const std::string& name) const;
    const SystemGroup* group(std::uint32_t gid) const;
    bool user_free(std::uint32_t uid) const;
    const std::vector<SystemUser>& users() const { return users_; }
    const std::vector<SystemGroup>& groups() const { return groups_; }

    // Ids as the tools allocate them: the first free one going up from `low`, or
    // down from `high`; `both` wants it free as a uid and as a gid.
    enum class Direction { up, down };
    std::optional<std::uint32_t> free_uid(std::uint32_t low, std::uint32_t high, Direction d,
                                          bool both = false) const;
    std::optional<std::uint32_t> free_gid(std::uint32_t low, std::uint32_t high, Direction d) const;

    void add(SystemUser user) { users_.push_back(std::move(user)); }
    void add(SystemGroup group) { groups_.push_back(std::move(group)); }

    std::string passwd_text() const;  // /etc/passwd
    std::string group_text() const;   // /etc/group

  private:
    std::vector<SystemUser> users_;
    std::vector<SystemGroup> groups_;
};

struct ScriptAccounts {
    Accounts accounts;
    std::vector<std::string> created;  // one line per user or group made, for the log
    std::vector<UnfollowedCommand> unfollowed;
};

// The accounts after the preinst of every package in `order`, then their postinsts
// (the order dpkg unpacks, then configures them), starting from base-passwd's masters
// in `root`. sysusers conf files are read from `root`.
ScriptAccounts read_accounts(const std::filesystem::path& root, const Manifest& manifest,
                             const std::vector<std::string>& order, const ScriptFacts& facts);

// Writes /etc/passwd and /etc/group of `accounts` into `root` (through its own
// links, never out of it) and records them in `manifest`, owned by no package.
void write_accounts(const std::filesystem::path& root, Manifest& manifest,
                    const Accounts& accounts);

// The packages of `manifest` in an order that configures dependencies first (their
// Pre-Depends and Depends among them), by name where nothing else decides.
std::vector<std::string> configure_order(const Manifest& manifest);

}  // namespace dmc::rootfs
