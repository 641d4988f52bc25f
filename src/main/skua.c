/*
 * skua.c -- the command line: Squid's options where Squid has them.
 *
 *   skua [-N] [-f FILE] [-k parse|check|reconfigure|rotate|shutdown|
 *         interrupt|kill] [-d LEVEL] [-v]
 *
 * This file parses options, loads the first configuration, signals a
 * running instance for -k, daemonises and writes the pid file; the rest of
 * the process life is runtime_run() (worker.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/opensslv.h>
#include <ares.h>
#include <pcre2.h>

#include "sk_log.h"
#include "conf/conf.h"
#include "nat/nat.h"
#include "comm/worker.h"

#define SK_DEFAULT_CONF SK_SYSCONFDIR "/skua/skua.conf"

static void
usage(FILE *fp)
{
    fprintf(fp,
        "Usage: skua [-N] [-f FILE] [-k SIGNAL] [-d LEVEL] [-v]\n"
        "  -N         stay in the foreground (do not daemonise)\n"
        "  -f FILE    configuration file (default " SK_DEFAULT_CONF ")\n"
        "  -k SIGNAL  parse: check the configuration and exit\n"
        "             check: is skua running?  reconfigure, rotate,\n"
        "             shutdown, interrupt, kill: signal the running skua\n"
        "  -d LEVEL   copy cache log lines up to LEVEL to standard error\n"
        "  -v         print the version and build features\n"
        "  -h         this help\n");
}

static void
print_version(void)
{
    char nat[128];

    printf("skua version %s\n", PACKAGE_VERSION);
    printf("libevent %s, %s, c-ares %s, PCRE2 %d.%d\n",
           event_get_version(), OPENSSL_VERSION_TEXT, ares_version(NULL),
           PCRE2_MAJOR, PCRE2_MINOR);
    printf("features:");
#ifdef HAVE_SPLICE
    printf(" splice");
#endif
    printf(" reuseport happy-eyeballs\n");
    printf("nat backends: %s\n", nat_backends_list(nat, sizeof(nat)));
}

static pid_t
pidfile_read(const char *path)
{
    FILE *fp = fopen(path, "r");
    long pid = 0;

    if (fp == NULL)
        return -1;
    if (fscanf(fp, "%ld", &pid) != 1)
        pid = -1;
    fclose(fp);
    return pid > 0 ? (pid_t)pid : -1;
}

static int
pidfile_write(const char *path)
{
    char buf[32];
    int fd, n;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        return -1;
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static bool
pidfile_is_set(const struct conf *c)
{
    return c->pid_filename != NULL && strcmp(c->pid_filename, "none") != 0;
}

/* -k ACTION: send the matching signal to the running instance. */
static int
signal_running(const struct conf *c, const char *action)
{
    static const struct { const char *name; int sig; } acts[] = {
        { "check", 0 }, { "reconfigure", SIGHUP }, { "rotate", SIGUSR1 },
        { "shutdown", SIGTERM }, { "interrupt", SIGINT },
        { "kill", SIGKILL },
    };
    pid_t pid;

    for (size_t i = 0; i < SK_ARRAY_LEN(acts); i++) {
        if (strcmp(action, acts[i].name) != 0)
            continue;
        if (!pidfile_is_set(c)) {
            fprintf(stderr, "skua: -k %s: pid_filename is none\n", action);
            return 1;
        }
        pid = pidfile_read(c->pid_filename);
        if (pid == -1) {
            fprintf(stderr, "skua: -k %s: no running skua (cannot read "
                    "%s)\n", action, c->pid_filename);
            return 1;
        }
        if (kill(pid, acts[i].sig) == -1) {
            fprintf(stderr, "skua: -k %s: process %ld: %s\n", action,
                    (long)pid, strerror(errno));
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "skua: unknown -k action '%s'\n", action);
    usage(stderr);
    return 2;
}

static void
raise_fd_limit(const struct conf *c)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        return;
    if (c->max_filedescriptors > 0)
        rl.rlim_cur = (rlim_t)c->max_filedescriptors;
    else
        rl.rlim_cur = rl.rlim_max;
    if (rl.rlim_cur > rl.rlim_max)
        rl.rlim_max = rl.rlim_cur;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        sk_notice(SK_SEC_MAIN, "max_filedescriptors %lld: %s",
                  (long long)rl.rlim_cur, strerror(errno));
}

static int
daemonise(void)
{
    pid_t pid = fork();
    int fd;

    if (pid == -1)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() == -1)
        return -1;
    pid = fork();
    if (pid == -1)
        return -1;
    if (pid > 0)
        _exit(0);
    fd = open("/dev/null", O_RDWR);
    if (fd != -1) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *conf_path = SK_DEFAULT_CONF;
    const char *kaction = NULL;
    bool foreground = false;
    struct conf *conf;
    char *err = NULL, *pidpath = NULL;
    int opt, status;

    while ((opt = getopt(argc, argv, "Nf:k:d:vh")) != -1) {
        switch (opt) {
        case 'N':
            foreground = true;
            break;
        case 'f':
            conf_path = optarg;
            break;
        case 'k':
            kaction = optarg;
            break;
        case 'd':
            sk_log_set_stderr_level(atoi(optarg));
            break;
        case 'v':
            print_version();
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    conf = conf_load(conf_path, &err);
    if (conf == NULL) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return 1;
    }
    if (kaction != NULL && strcmp(kaction, "parse") == 0) {
        conf_unref(conf);
        return 0;
    }
    if (kaction != NULL) {
        status = signal_running(conf, kaction);
        conf_unref(conf);
        return status;
    }

    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(conf);
    if (!foreground && daemonise() == -1) {
        fprintf(stderr, "skua: cannot daemonise: %s\n", strerror(errno));
        return 1;
    }
    if (pidfile_is_set(conf)) {
        pidpath = sk_strdup(conf->pid_filename);
        if (pidfile_write(pidpath) == -1)
            fprintf(stderr, "skua: cannot write pid file %s: %s\n",
                    pidpath, strerror(errno));
    }
    status = runtime_run(conf, conf_path);     /* takes <conf> */
    if (pidpath != NULL) {
        unlink(pidpath);
        free(pidpath);
    }
    return status;
}
