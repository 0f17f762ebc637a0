/* `hyrun ps` of a VM container.  Its processes live in the guest, where
 * the host's ps cannot see them: the agent reports each one (pid, parent,
 * ids, state, times, sizes, terminal, command) and this prints the table
 * procps's ps would print for the common options, so that what parses
 * `runc ps` output (the header, then one row per process) keeps working:
 *
 *   (none)                 as -ef
 *   -e -A -a -d, x a, w    which processes: every one of the container's
 *                          is shown anyway; x and a pick BSD's columns
 *   -f                     UID PID PPID C STIME TTY TIME CMD
 *   u                      USER PID %CPU %MEM VSZ RSS TTY STAT START TIME
 *                          COMMAND
 *   -o LIST, o LIST, --format LIST   those columns (pid ppid uid user gid
 *                          group comm args cmd command stat s tty time
 *                          etime stime start c %cpu %mem rss vsz, with
 *                          key=HEADER)
 *
 * User and group names come from the host's databases, as the host's ps
 * would show them.  Other options are refused, naming the option. */
#ifndef HYRUN_VM_PS_TABLE_H
#define HYRUN_VM_PS_TABLE_H

#include <stdio.h>
#include <time.h>

#include "agent-protocol/message.h"
#include "common/error.h"

/* `args`: ps's arguments (NULL-ended, maybe empty); `now`: the host's
 * clock, for STIME/START. */
int hy_vm_ps_table (const struct hy_agent_response *r, char *const *args,
                    time_t now, FILE *out, hy_error_t *err);

#endif
