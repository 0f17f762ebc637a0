#include "runtime/linux/mount-options.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/util.h"

enum option_kind
{
  OPT_FLAG,        /* sets `value` in flags */
  OPT_CLEAR,       /* clears `value` from flags */
  OPT_PROPAGATION, /* sets the propagation */
  OPT_ATTR_SET,    /* recursive mount_setattr: set `value` */
  OPT_ATTR_CLEAR,  /* recursive mount_setattr: clear `value` */
  OPT_ATIME,       /* recursive mount_setattr: the atime mode `value` */
  OPT_IDMAP,
  OPT_RIDMAP,
  OPT_TMPCOPYUP,
};

struct option
{
  const char *name;
  enum option_kind kind;
  unsigned long value;
};

static const struct option options[] = {
  { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "atime", OPT_CLEAR, MS_NOATIME },
  { "bind", OPT_FLAG, MS_BIND },
  { "defaults", OPT_FLAG, 0 },
  { "dev", OPT_CLEAR, MS_NODEV },
  { "diratime", OPT_CLEAR, MS_NODIRATIME },
  { "dirsync", OPT_FLAG, MS_DIRSYNC },
  { "exec", OPT_CLEAR, MS_NOEXEC },
  { "iversion", OPT_FLAG, MS_I_VERSION },
  { "lazytime", OPT_FLAG, MS_LAZYTIME },
  { "loud", OPT_CLEAR, MS_SILENT },
  { "mand", OPT_FLAG, MS_MANDLOCK },
  { "noatime", OPT_FLAG, MS_NOATIME },
  { "nodev", OPT_FLAG, MS_NODEV },
  { "nodiratime", OPT_FLAG, MS_NODIRATIME },
  { "noexec", OPT_FLAG, MS_NOEXEC },
  { "noiversion", OPT_CLEAR, MS_I_VERSION },
  { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "nosuid", OPT_FLAG, MS_NOSUID },
  { "nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW },
  { "rbind", OPT_FLAG, MS_BIND | MS_REC },
  { "relatime", OPT_FLAG, MS_RELATIME },
  { "remount", OPT_FLAG, MS_REMOUNT },
  { "ro", OPT_FLAG, MS_RDONLY },
  { "rw", OPT_CLEAR, MS_RDONLY },
  { "silent", OPT_FLAG, MS_SILENT },
  { "strictatime", OPT_FLAG, MS_STRICTATIME },
  { "suid", OPT_CLEAR, MS_NOSUID },
  { "sync", OPT_FLAG, MS_SYNCHRONOUS },
  { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },

  { "private", OPT_PROPAGATION, MS_PRIVATE },
  { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROPAGATION, MS_SHARED },
  { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
  { "slave", OPT_PROPAGATION, MS_SLAVE },
  { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
  { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },

  { "rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY },
  { "rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID },
  { "rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID },
  { "rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV },
  { "rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV },
  { "rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC },
  { "rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW },
  { "rrelatime", OPT_ATIME, MOUNT_ATTR_RELATIME },
  { "rnorelatime", OPT_ATTR_CLEAR, MOUNT_ATTR_RELATIME },
  { "rnoatime", OPT_ATIME, MOUNT_ATTR_NOATIME },
  { "ratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NOATIME },
  { "rstrictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rnostrictatime", OPT_ATTR_CLEAR, MOUNT_ATTR_STRICTATIME },

  { "idmap", OPT_IDMAP, 0 },
  { "ridmap", OPT_RIDMAP, 0 },
  { "tmpcopyup", OPT_TMPCOPYUP, 0 },
};

#define N_OPTIONS (sizeof (options) / sizeof (options[0]))

const char *
hy_mount_option_name (size_t i)
{
  return i < N_OPTIONS ? options[i].name : NULL;
}

static const struct option *
find_option (const char *name)
{
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (strcmp (options[i].name, name) == 0)
      return &options[i];
  return NULL;
}

static void
append_data (char **data, const char *opt)
{
  char *joined = *data ? xasprintf ("%s,%s", *data, opt) : xstrdup (opt);
  free (*data);
  *data = joined;
}

static void
apply (const struct option *o, struct hy_mount_options *out)
{
  switch (o->kind)
    {
    case OPT_FLAG:
      out->flags |= o->value;
      out->clear &= ~o->value;
      break;
    case OPT_CLEAR:
      out->flags &= ~o->value;
      out->clear |= o->value;
      break;
    case OPT_PROPAGATION:
      out->propagation = o->value;
      break;
    case OPT_ATTR_SET:
      out->attr_set |= o->value;
      out->attr_clr &= ~(uint64_t) o->value;
      break;
    case OPT_ATTR_CLEAR:
      out->attr_clr |= o->value;
      out->attr_set &= ~(uint64_t) o->value;
      break;
    case OPT_ATIME:
      /* The atime modes are one field: setting one clears the others. */
      out->attr_clr |= MOUNT_ATTR__ATIME;
      out->attr_set = (out->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME)
                      | o->value;
      break;
    case OPT_IDMAP:
      out->idmap = true;
      break;
    case OPT_RIDMAP:
      out->ridmap = true;
      break;
    case OPT_TMPCOPYUP:
      out->tmpcopyup = true;
      break;
    }
}

int
hy_mount_options_parse (char *const *opts, struct hy_mount_options *out,
                        hy_error_t *err)
{
  *out = (struct hy_mount_options){ 0 };
  for (size_t i = 0; opts && opts[i]; i++)
    {
      if (opts[i][0] == '\0')
        {
          hy_mount_options_release (out);
          return hy_error (err, 0, "mount option %zu is empty", i);
        }
      const struct option *o = find_option (opts[i]);
      if (o)
        apply (o, out);
      else
        append_data (&out->data, opts[i]); /* filesystem-specific */
    }
  return 0;
}

void
hy_mount_options_release (struct hy_mount_options *o)
{
  free (o->data);
  o->data = NULL;
}
