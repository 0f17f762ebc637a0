/* libFuzzer target for the config.json parser.
 *
 * Any input must either be rejected with an error that names the document,
 * or be accepted; an accepted document must serialize to JSON that parses
 * again and serializes to the very same text (a fixed point), so that what
 * hyrun writes (state, `hyrun spec`) is always something it reads back.
 * The sanitizers catch memory errors and leaks on both paths.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "oci/config.h"

#define SOURCE "config.json"

static void
die (const char *what, const char *detail)
{
  fprintf (stderr, "fuzz-config: %s%s%s\n", what, detail ? ": " : "",
           detail ? detail : "");
  abort ();
}

static void
check_error (hy_error_t err)
{
  if (err == NULL || err->msg == NULL)
    die ("failure without an error message", NULL);
  if (strncmp (err->msg, SOURCE ": ", strlen (SOURCE ": ")) != 0)
    die ("error does not name the document", err->msg);
}

static void
check_round_trip (const struct oci_config *c, bool pretty)
{
  struct oci_config *again = NULL;
  hy_error_t err = NULL;
  char *first, *second;

  first = oci_config_to_json (c, pretty);
  if (first == NULL)
    die ("oci_config_to_json returned NULL", NULL);

  if (oci_config_parse (first, SOURCE, &again, &err) < 0)
    {
      fprintf (stderr, "fuzz-config: serialized document:\n%s\n", first);
      die ("serialized document does not parse",
           err && err->msg ? err->msg : "(no message)");
    }

  second = oci_config_to_json (again, pretty);
  if (second == NULL || strcmp (first, second) != 0)
    {
      fprintf (stderr, "fuzz-config: first:\n%s\nsecond:\n%s\n", first,
               second ? second : "(null)");
      die ("serialization is not a fixed point", NULL);
    }

  free (second);
  free (first);
  oci_config_free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct oci_config *c = NULL;
  hy_error_t err = NULL;
  char *text;
  int ret;

  text = malloc (size + 1);
  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';

  ret = oci_config_parse (text, SOURCE, &c, &err);
  if (ret >= 0)
    {
      if (c == NULL)
        die ("success without a config", NULL);
      check_round_trip (c, false);
      check_round_trip (c, true);
    }
  else
    check_error (err);

  hy_error_release (&err);
  oci_config_free (c);
  free (text);
  return 0;
}
