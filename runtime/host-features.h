/* What hyrun supports on this host, probed, as a features document. */
#ifndef HYRUN_RUNTIME_HOST_FEATURES_H
#define HYRUN_RUNTIME_HOST_FEATURES_H

#include "oci/features.h"

#define HY_FEATURES_OCI_VERSION_MIN "1.0.0"
#define HY_ANNOTATION_FEATURES_VERSION "io.hyrun.version"
#define HY_ANNOTATION_FEATURES_COMMIT "io.hyrun.commit"

struct oci_features *hy_host_features (void);

/* Every capability libcap and the kernel know, "CAP_CHOWN", ... */
char **hy_known_capabilities (void);

#endif
