/* The binary boundary between the dmc host and its template plugins.
 *
 * Plain C so that a plugin built with another compiler or at another time still
 * talks to the host. Rules that keep it safe:
 *  - The host looks up DMC_PLUGIN_ENTRY_SYMBOL and refuses any plugin whose
 *    abi_version differs from its own. Incompatible changes bump the version;
 *    compatible ones append fields at the end of a struct and are guarded by
 *    struct_size.
 *  - Strings handed to the host are copied before the call returns. Strings the
 *    host hands out stay valid until the hook returns. Nobody frees memory that
 *    the other side allocated.
 *  - A hook returns 0 on success. On failure it calls host->fail() with the reason
 *    and returns non-zero. No exception crosses the boundary.
 */
#ifndef DMC_ABI_H
#define DMC_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMC_PLUGIN_ABI_VERSION 1u
#define DMC_PLUGIN_ENTRY_SYMBOL "dmc_plugin_entry"

/* The seed tool's log levels, in order: a sink set to level L shows messages of level <= L. */
enum dmc_log_level {
    DMC_LOG_NONE = 0,
    DMC_LOG_FAIL = 1,
    DMC_LOG_ERROR = 2,
    DMC_LOG_OK = 3,
    DMC_LOG_TASK = 4,
    DMC_LOG_WARNING = 5,
    DMC_LOG_STDERR = 6,
    DMC_LOG_NOTICE = 7,
    DMC_LOG_CMD = 8,
    DMC_LOG_INFO = 9,
    DMC_LOG_STDOUT = 10,
    DMC_LOG_DETAIL = 11,
    DMC_LOG_ASSERT = 12,
    DMC_LOG_ALL = 13
};

/* Services available in every hook. */
typedef struct dmc_host {
    uint32_t struct_size;
    void* opaque;
    void (*log)(void* opaque, int level, const char* message);
    /* Records why the running hook fails; the hook then returns non-zero. */
    void (*fail)(void* opaque, const char* message);
    /* A build setting by key ("template"; "image_template", the template whose image is
     * built, another one when it builds on this template; "arch", "dist", "tools", "mode",
     * "option.<name>" for the template's options from the config); NULL when unset. */
    const char* (*setting)(void* opaque, const char* key);
} dmc_host;

/* prepare: what to take from the archive. */
typedef struct dmc_prepare_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*add_package)(void* opaque, const char* name);
    /* The package and whatever only it pulled in are left out of the closure. */
    void (*exclude_package)(void* opaque, const char* name);
    /* Optional content of the base image: "ca-certificates", "tzdata", "small". */
    void (*want)(void* opaque, const char* feature);
} dmc_prepare_ctx;

/* collect: what to take from the unpacked packages (the rootfs). Paths are absolute
 * inside the rootfs. ELF files get their shared-library closure added by the host. */
typedef struct dmc_collect_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*add_path)(void* opaque, const char* path);     /* a file, or a whole tree */
    void (*add_glob)(void* opaque, const char* pattern);  /* every match; none is fine */
    /* Modules the program dlopen()s (nginx modules, PHP extensions, NSS modules). */
    void (*add_dlopened)(void* opaque, const char* pattern);
    /* A soname that may stay unresolved without failing the build. */
    void (*allow_missing)(void* opaque, const char* soname);
    /* Everything the named package installed. */
    void (*add_package_files)(void* opaque, const char* package);
} dmc_collect_ctx;

/* configure: the image's own files and settings. */
typedef struct dmc_configure_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*write_file)(void* opaque, const char* path, const char* data, size_t size,
                       uint32_t mode, uint32_t uid, uint32_t gid);
    /* A file of the rootfs, NULL when it does not exist; valid until the hook returns. */
    const char* (*read_file)(void* opaque, const char* path, size_t* size);
    void (*make_dir)(void* opaque, const char* path, uint32_t mode, uint32_t uid, uint32_t gid);
    void (*make_symlink)(void* opaque, const char* target, const char* path);
    void (*remove)(void* opaque, const char* path);
    void (*add_group)(void* opaque, const char* name, uint32_t gid);
    void (*add_user)(void* opaque, const char* name, uint32_t uid, uint32_t gid,
                     const char* home, const char* shell);
    void (*set_entrypoint)(void* opaque, const char* const* argv, size_t argc);
    void (*set_cmd)(void* opaque, const char* const* argv, size_t argc);
    void (*set_env)(void* opaque, const char* name, const char* value);
    void (*set_user)(void* opaque, const char* user);
    void (*set_workdir)(void* opaque, const char* dir);
    void (*expose)(void* opaque, const char* port); /* "80/tcp" */
    void (*add_volume)(void* opaque, const char* path);
    void (*set_label)(void* opaque, const char* name, const char* value);
    void (*set_stop_signal)(void* opaque, const char* signal);
    /* The rootfs paths matching a glob, newline-separated and sorted ("" when none);
     * valid until the hook returns. */
    const char* (*glob)(void* opaque, const char* pattern);
} dmc_configure_ctx;

/* deploy: Kubernetes objects for the built image (setting "image" holds its reference). */
typedef struct dmc_deploy_ctx {
    uint32_t struct_size;
    const dmc_host* host;
    void* opaque;
    void (*add_object)(void* opaque, const char* yaml);
} dmc_deploy_ctx;

typedef struct dmc_plugin {
    uint32_t abi_version;
    uint32_t struct_size;
    const char* name;        /* the template name, unique among loaded plugins */
    const char* version;
    const char* description; /* one line */
    const char* group;
    const char* const* builds_on; /* NULL-terminated template names, or NULL */
    int (*prepare)(const dmc_prepare_ctx*);     /* required */
    int (*collect)(const dmc_collect_ctx*);     /* required */
    int (*configure)(const dmc_configure_ctx*); /* required */
    int (*deploy)(const dmc_deploy_ctx*);       /* optional */
} dmc_plugin;

typedef const dmc_plugin* (*dmc_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* DMC_ABI_H */
