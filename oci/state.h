/* The OCI state document (`hyrun state`, and stdin of hooks). */
#ifndef HYRUN_OCI_STATE_H
#define HYRUN_OCI_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/json.h"

enum oci_status
{
  OCI_STATUS_CREATING,
  OCI_STATUS_CREATED,
  OCI_STATUS_RUNNING,
  OCI_STATUS_PAUSED, /* runc's extension */
  OCI_STATUS_STOPPED,
};

const char *oci_status_name (enum oci_status s);

struct oci_state
{
  char *oci_version;
  char *id;
  enum oci_status status;
  pid_t pid; /* 0 when there is no process */
  char *bundle;
  oci_strmap annotations;
};

int oci_state_parse (const char *text, struct oci_state **out,
                     hy_error_t *err);
char *oci_state_to_json (const struct oci_state *s, bool pretty);
void oci_state_free (struct oci_state *s);

#endif
