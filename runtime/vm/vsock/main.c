/* hyrun-vhost-vsock: the vhost-user virtio-vsock back-end as a program,
 * for QEMU's `-device vhost-user-vsock-device` (and the tests).
 *
 *   hyrun-vhost-vsock (--socket PATH | --fd N) [--uds-fd N] --uds PATH
 *                     --cid N [--verbose]
 *
 * --fd N: an inherited socket already connected to QEMU (the other end is
 * QEMU's `-chardev socket,id=X,fd=M`); --uds-fd N: an inherited socket
 * already listening on the --uds path, which then stays for its owner to
 * unlink.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "runtime/vm/vsock/vsock.h"

static void
usage (FILE *f)
{
  fputs ("usage: hyrun-vhost-vsock (--socket PATH | --fd N) [--uds-fd N] "
         "--uds PATH --cid N [--verbose]\n", f);
}

int
main (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "socket", required_argument, NULL, 's' },
    { "fd", required_argument, NULL, 'f' },
    { "uds", required_argument, NULL, 'u' },
    { "uds-fd", required_argument, NULL, 'U' },
    { "cid", required_argument, NULL, 'c' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct hy_vsock_opts o = { .vhost_fd = -1, .uds_fd = -1 };
  long long fd;
  unsigned long long cid;
  int opt;
  while ((opt = getopt_long (argc, argv, "s:f:u:U:c:vh", longopts, NULL)) != -1)
    switch (opt)
      {
      case 's':
        o.vhost_socket = optarg;
        break;
      case 'f':
        if (parse_int64 (optarg, 0, 1 << 20, &fd) < 0)
          {
            fprintf (stderr, "hyrun-vhost-vsock: bad --fd `%s`\n", optarg);
            return 2;
          }
        o.vhost_fd = fd;
        break;
      case 'u':
        o.uds_path = optarg;
        break;
      case 'U':
        if (parse_int64 (optarg, 0, 1 << 20, &fd) < 0)
          {
            fprintf (stderr, "hyrun-vhost-vsock: bad --uds-fd `%s`\n",
                     optarg);
            return 2;
          }
        o.uds_fd = fd;
        break;
      case 'c':
        if (parse_uint64 (optarg, &cid) < 0)
          {
            fprintf (stderr, "hyrun-vhost-vsock: bad --cid `%s`\n", optarg);
            return 2;
          }
        o.guest_cid = cid;
        break;
      case 'v':
        o.verbose = true;
        break;
      case 'h':
        usage (stdout);
        return 0;
      default:
        usage (stderr);
        return 2;
      }
  if ((o.vhost_socket == NULL) == (o.vhost_fd < 0) || o.uds_path == NULL
      || optind != argc)
    {
      usage (stderr);
      return 2;
    }
  hy_error_t err = NULL;
  if (hy_vsock_backend_run (&o, &err) < 0)
    {
      char *text = hy_error_text (err);
      fprintf (stderr, "hyrun-vhost-vsock: %s\n", text);
      free (text);
      hy_error_release (&err);
      return 1;
    }
  return 0;
}
