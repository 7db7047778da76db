/*
 * mecomwl: the guest's one static multi-call binary.
 *   mecomwl checker [check=8M] [hb=10]
 *   mecomwl idle | memwrite | random | hog | compile [size=..] [rate=..] [dir=..]
 * Arguments are key=value (the init script passes every mecom.KEY=VALUE from the kernel
 * command line). Output goes to /dev/ttyS0 when it can be opened, else stdout.
 */
#include "util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

int checker_main(int argc, char **argv);
int memwrite_main(int argc, char **argv);
int random_main(int argc, char **argv);
int hog_main(int argc, char **argv);
int compile_main(int argc, char **argv);
int sample_main(int argc, char **argv);

static int idle_main(int argc, char **argv) {
  (void)argc; (void)argv;
  for (;;) pause();
  return 0;
}

static const struct { const char *name; int (*run)(int, char **); } modes[] = {
  { "checker", checker_main }, { "idle", idle_main }, { "memwrite", memwrite_main },
  { "random", random_main },   { "hog", hog_main },   { "compile", compile_main }, { "sample", sample_main },
};

int main(int argc, char **argv) {
  /* MECOMWL_STDOUT=1: for trying the binary on a host, where ttyS0 is not ours. */
  int fd = getenv("MECOMWL_STDOUT") ? -1 : open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
  if (fd >= 0) {
    /* No "\n" -> "\r\n" translation; a fast line rate so the console never throttles. */
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
      t.c_oflag &= ~(tcflag_t)OPOST;
      cfsetospeed(&t, B115200);
      tcsetattr(fd, TCSANOW, &t);
    }
    console_fd = fd;
  }
  if (argc < 2) {
    say("usage: mecomwl checker|idle|memwrite|random|hog|compile [key=value...]");
    return 2;
  }
  /* The checker outranks the workloads so that heartbeats keep their 10 ms rhythm even
   * when a workload spins on the only vCPU. */
  setpriority(PRIO_PROCESS, 0, strcmp(argv[1], "checker") == 0 ? -10 : 5);
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp(argv[1], modes[i].name) == 0) return modes[i].run(argc - 2, argv + 2);
  say("WL ERROR unknown workload %s", argv[1]);
  return 2;
}
