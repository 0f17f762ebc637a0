#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

static bool
id_char_ok (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || strchr ("_+.-", c) != NULL;
}

int
hy_container_id_validate (const char *id, hy_error_t *err)
{
  if (id == NULL || *id == '\0')
    return hy_error (err, 0, "invalid container id: must not be empty");
  if (str_eq (id, ".") || str_eq (id, ".."))
    return hy_error (err, 0, "invalid container id \"%s\"", id);
  if (strlen (id) > HY_CONTAINER_ID_MAX)
    return hy_error (err, 0, "invalid container id: longer than %d bytes",
                     HY_CONTAINER_ID_MAX);
  for (const char *p = id; *p; p++)
    if (!id_char_ok (*p))
      return hy_error (err, 0,
                       "invalid container id \"%s\": only letters, digits "
                       "and _+.- are allowed",
                       id);
  return 0;
}

char *
hy_default_root (void)
{
  if (geteuid () == 0)
    return xstrdup ("/run/hyrun");
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/hyrun", xdg);
  return xasprintf ("/run/user/%u/hyrun", (unsigned) geteuid ());
}

static int
open_container (const char *root, const char *id, hy_error_t *err)
{
  _cleanup_close_ int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      if (errno == ENOENT)
        return -ENOENT;
      return hy_error_errno (err, "open state root `%s`", root);
    }
  int fd = openat (rootfd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
        return -ENOENT;
      return hy_error_errno (err, "open `%s/%s`", root, id);
    }
  return fd;
}

int
hy_container_open (const char *root, const char *id, int *dirfd,
                   hy_error_t *err)
{
  if (hy_container_id_validate (id, err) < 0)
    return -1;
  int fd = open_container (root, id, err);
  if (fd == -ENOENT)
    return hy_error (err, 0, "container \"%s\" does not exist", id);
  if (fd < 0)
    return -1;
  *dirfd = fd;
  return 0;
}

int
hy_container_exists (const char *root, const char *id, bool *exists,
                     hy_error_t *err)
{
  if (hy_container_id_validate (id, err) < 0)
    return -1;
  int fd = open_container (root, id, err);
  if (fd == -ENOENT)
    {
      *exists = false;
      return 0;
    }
  if (fd < 0)
    return -1;
  close (fd);
  *exists = true;
  return 0;
}
